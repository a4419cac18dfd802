import { readFileSync } from 'node:fs'
import { parse as parseProperties } from 'dot-properties'
import { RecoveryError } from '../errors.js'
import type { SaslMechanism, SaslSettings, TlsSettings } from './connection-settings.js'
import { registerSecret } from './redact.js'

/** The part of a Kafka client .properties file that recover understands. */
export interface ClientProperties {
  brokers?: string[]
  ssl?: TlsSettings
  sasl?: SaslSettings
  clientId?: string
}

const PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const

/** Reads a file as ops teams keep it for kafka-consumer-groups.sh --command-config. */
export function readClientProperties(path: string): ClientProperties {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new RecoveryError('CONFIG_NOT_FOUND', `Cannot read the client config file ${path}; check the path given to --client-config.`, { cause })
  }
  return clientPropertiesFrom(parseProperties(text) as Record<string, string>, path)
}

export function clientPropertiesFrom(props: Record<string, string>, path: string): ClientProperties {
  const bad = (what: string): never => {
    throw new RecoveryError('BAD_CLIENT_CONFIG', `${path}: ${what}`, { details: { file: path } })
  }
  for (const [key, value] of Object.entries(props)) {
    if (/password|secret|jaas/i.test(key) && value) registerSecret(value)
  }
  const result: ClientProperties = {}
  const servers = props['bootstrap.servers']
  if (servers !== undefined) {
    result.brokers = servers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    if (result.brokers.length === 0) bad('bootstrap.servers is empty; give host:port[,host:port].')
  }
  if (props['client.id']) result.clientId = props['client.id']

  const protocol = (props['security.protocol'] ?? 'PLAINTEXT').toUpperCase()
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    bad(`security.protocol "${props['security.protocol']}" is not one of ${PROTOCOLS.join(', ')}.`)
  }
  if (protocol === 'SSL' || protocol === 'SASL_SSL') result.ssl = tlsFrom(props, bad)
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') result.sasl = saslFrom(props, bad)
  return result
}

function readPem(path: string, key: string, bad: (what: string) => never): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return bad(`cannot read ${key} file ${path}.`)
  }
}

function tlsFrom(props: Record<string, string>, bad: (what: string) => never): TlsSettings {
  const storeType = (props['ssl.truststore.type'] ?? '').toUpperCase()
  if (props['ssl.truststore.location'] && storeType !== 'PEM') {
    bad(
      'ssl.truststore.location points at a JKS/PKCS12 store, which Node cannot read; export the CA as PEM and set ssl.ca.location (keytool -exportcert -rfc).',
    )
  }
  if (props['ssl.keystore.location'] && (props['ssl.keystore.type'] ?? '').toUpperCase() !== 'PEM') {
    bad(
      'ssl.keystore.location points at a JKS/PKCS12 store, which Node cannot read; export the certificate and key as PEM and set ssl.certificate.location and ssl.key.location.',
    )
  }
  const caPath = props['ssl.ca.location'] ?? (storeType === 'PEM' ? props['ssl.truststore.location'] : undefined)
  const tls: TlsSettings = {
    rejectUnauthorized: (props['enable.ssl.certificate.verification'] ?? 'true') !== 'false',
    checkHostname: (props['ssl.endpoint.identification.algorithm'] ?? 'https') !== '',
  }
  if (caPath) tls.ca = readPem(caPath, 'ssl.ca.location', bad)
  else if (props['ssl.truststore.certificates']) tls.ca = props['ssl.truststore.certificates']
  if (props['ssl.certificate.location']) tls.cert = readPem(props['ssl.certificate.location'], 'ssl.certificate.location', bad)
  else if (props['ssl.keystore.certificate.chain']) tls.cert = props['ssl.keystore.certificate.chain']
  if (props['ssl.key.location']) tls.key = readPem(props['ssl.key.location'], 'ssl.key.location', bad)
  else if (props['ssl.keystore.key']) tls.key = props['ssl.keystore.key']
  const passphrase = props['ssl.key.password']
  if (passphrase) tls.passphrase = passphrase
  return tls
}

const MECHANISMS: Record<string, SaslMechanism> = {
  PLAIN: 'plain',
  'SCRAM-SHA-256': 'scram-sha-256',
  'SCRAM-SHA-512': 'scram-sha-512',
}

function saslFrom(props: Record<string, string>, bad: (what: string) => never): SaslSettings {
  const name = (props['sasl.mechanism'] ?? 'PLAIN').toUpperCase()
  const mechanism = MECHANISMS[name] ?? bad(`sasl.mechanism "${props['sasl.mechanism']}" is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.`)
  let username = props['sasl.username']
  let password = props['sasl.password']
  const jaas = props['sasl.jaas.config']
  if (jaas) {
    const field = (name: string) => new RegExp(`\\b${name}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(jaas)?.[1]
    username = username ?? field('username')
    password = password ?? field('password')
  }
  if (!username || password === undefined) {
    bad('SASL needs a username and password; set sasl.jaas.config (… username="u" password="p";) or sasl.username and sasl.password.')
  }
  registerSecret(password!)
  return { mechanism, username: username!, password: password! }
}
