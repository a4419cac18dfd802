import { createRequire } from 'node:module'
import type { Kafka, KafkaConfig, logCreator } from 'kafkajs'
import type { ConnectionSettings } from '../config/connection-settings.js'
import { registerCompressionCodecs } from './compression-codecs.js'
import { installNegativeTimeoutFilter } from './negative-timeout-warning.js'
import { installLinearGrouping, installOrderedHeaders } from './ordered-headers.js'
import { installProduceEncoding, installRequestFraming } from './produce-encoding/install.js'
import { installAcknowledgedSends } from './send-messages.js'

const require = createRequire(import.meta.url)

/** Connect fast and give up early: an on-call engineer needs "unreachable" in seconds, not minutes. */
export const CONNECT_TIMEOUT_MS = 3_000
export const REQUEST_TIMEOUT_MS = 15_000

export interface KafkaLogLine {
  level: 'error' | 'warn' | 'info' | 'debug'
  namespace: string
  message: string
}

/** Builds a kafkajs client from resolved settings. kafkajs is loaded here, lazily. */
export function createKafka(settings: ConnectionSettings, options: { log?: (line: KafkaLogLine) => void; retries?: number } = {}): Kafka {
  installNegativeTimeoutFilter()
  installLinearGrouping()
  installRequestFraming()
  installProduceEncoding()
  installAcknowledgedSends()
  const kafkajs = require('kafkajs') as typeof import('kafkajs')
  registerCompressionCodecs()
  installOrderedHeaders()
  const levels = ['', 'error', 'warn', '', 'info', 'debug'] as const
  const toLog: logCreator =
    () =>
    ({ namespace, level, log }) => {
      const name = levels[level]
      if (options.log && name) options.log({ level: name, namespace, message: log.message })
    }
  const config: KafkaConfig = {
    brokers: settings.brokers,
    clientId: settings.clientId,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    authenticationTimeout: CONNECT_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    retry: { retries: options.retries ?? 2, initialRetryTime: 250, maxRetryTime: 2_000 },
    logLevel: options.log ? kafkajs.logLevel.DEBUG : kafkajs.logLevel.NOTHING,
    logCreator: toLog,
  }
  if (settings.ssl) {
    const ssl = settings.ssl
    config.ssl = {
      ca: ssl.ca ? [ssl.ca] : undefined,
      cert: ssl.cert,
      key: ssl.key,
      pfx: ssl.pfx,
      passphrase: ssl.passphrase,
      rejectUnauthorized: ssl.rejectUnauthorized,
      ...(ssl.checkHostname ? {} : { checkServerIdentity: () => undefined }),
    }
  }
  if (settings.sasl) {
    const { mechanism, username, password } = settings.sasl
    config.sasl =
      mechanism === 'plain'
        ? { mechanism, username, password }
        : mechanism === 'scram-sha-256'
          ? { mechanism, username, password }
          : mechanism === 'scram-sha-512'
            ? { mechanism, username, password }
            : {
                mechanism,
                authenticationProvider: (exchange) => ({
                  authenticate: async () => (await import('./oauth-bearer.js')).authenticateOAuthBearer(settings, exchange as never),
                }),
              }
  }
  return new kafkajs.Kafka(config)
}
