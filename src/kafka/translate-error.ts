import { RecoveryError } from '../errors.js'
import { redactText } from '../config/redact.js'
import type { ConnectionSettings } from '../config/connection-settings.js'

const AUTHORIZATION_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
])

/** Node's verification failures: no chain to a trusted root, or a self-signed certificate. */
const UNTRUSTED_CERTIFICATE = /unable to verify the first certificate|unable to get (local )?issuer certificate|self.signed certificate|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT/i

/** Turns a kafkajs error into a RecoveryError; our own errors pass through unchanged. */
export function translateKafkaError(error: unknown, settings: ConnectionSettings, doing: string): RecoveryError {
  if (error instanceof RecoveryError) return error
  const e = error as { name?: string; type?: string; message?: string; originalError?: unknown; cause?: unknown }
  const chain = errorChain(error)
  const where = settings.brokers.join(',')
  if (chain.some((c) => c.name === 'KafkaJSSASLAuthenticationError' || c.type === 'SASL_AUTHENTICATION_FAILED')) {
    return new RecoveryError('AUTHENTICATION_FAILED', `Kafka at ${where} refused the SASL credentials (${settings.sasl?.mechanism ?? 'none'} as ${settings.sasl?.username ?? '?'}) while ${doing}; check sasl.mechanism and the username/password in your client config.`, { cause: error, details: { brokers: settings.brokers } })
  }
  const authz = chain.find((c) => c.type && AUTHORIZATION_TYPES.has(c.type))
  if (authz) {
    const principal = settings.sasl?.username ? ` to User:${settings.sasl.username}` : ''
    return new RecoveryError('AUTHORIZATION_FAILED', `Kafka at ${where} denied ${doing}${principal} (${authz.type}); ask for the ACLs this needs, or use a principal that has them.`, { cause: error, details: { brokers: settings.brokers, kafkaError: authz.type } })
  }
  const untrusted = chain.find((c) => UNTRUSTED_CERTIFICATE.test(`${c.code ?? ''} ${c.message ?? ''}`))
  if (untrusted) {
    return new RecoveryError('BROKER_UNREACHABLE', `The TLS certificate of Kafka at ${where} is not signed by a CA this client trusts (${redactText(untrusted.message ?? untrusted.code ?? '')}) while ${doing}; set ssl.ca.location in your client config to the CA that signed the brokers' certificates.`, { cause: error, details: { brokers: settings.brokers } })
  }
  const tlsProblem = chain.find((c) => /certificate|self.signed|SSL|TLS|EPROTO|wrong version number/i.test(`${c.code ?? ''} ${c.message ?? ''}`))
  if (tlsProblem) {
    return new RecoveryError('BROKER_UNREACHABLE', `TLS with Kafka at ${where} failed while ${doing} (${redactText(tlsProblem.message ?? '')}); check security.protocol and ssl.ca.location in your client config.`, { cause: error, details: { brokers: settings.brokers } })
  }
  // Fencing says "…expired by the broker" and can come wrapped in a KafkaJSNonRetriableError: a
  // broker that answered, not one out of reach.
  const connection = !isProducerFenced(error) && chain.some((c) =>
    ['KafkaJSConnectionError', 'KafkaJSNumberOfRetriesExceeded', 'KafkaJSBrokerNotFound', 'KafkaJSRequestTimeoutError', 'KafkaJSConnectionClosedError', 'KafkaJSNonRetriableError'].includes(c.name ?? '') &&
    /connect|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|timed out|Closed connection|broker/i.test(c.message ?? ''),
  )
  if (connection) return unreachable(settings, doing, error)
  const message = redactText(e.message ?? String(error))
  return new RecoveryError('KAFKA_ERROR', `Kafka at ${where} answered ${e.type ?? e.name ?? 'an error'} while ${doing}: ${message}.`, { cause: error, details: { brokers: settings.brokers, kafkaError: e.type } })
}

export function unreachable(settings: ConnectionSettings, doing: string, cause?: unknown): RecoveryError {
  const where = settings.brokers.join(',')
  return new RecoveryError('BROKER_UNREACHABLE', `Could not reach Kafka at ${where} (from ${settings.source}) while ${doing}; check that the brokers are up and the address is right, or pass --brokers host:port.`, {
    cause,
    details: { brokers: settings.brokers },
    nextSteps: ['recover groups --brokers host:port   # try another address', 'npm run kafka   # start a local broker for trying things out'],
  })
}

function errorChain(error: unknown): Array<{ name?: string; type?: string; message?: string; code?: string }> {
  const out: Array<{ name?: string; type?: string; message?: string; code?: string }> = []
  let current: unknown = error
  for (let depth = 0; current && typeof current === 'object' && depth < 8; depth++) {
    out.push(current as never)
    const c = current as { originalError?: unknown; cause?: unknown }
    current = c.originalError ?? c.cause
  }
  return out
}

/**
 * Kafka's fencing of a transactional producer, anywhere in the error's chain of causes. While
 * `committing`, CONCURRENT_TRANSACTIONS that outlasted kafkajs's retries counts too: the
 * coordinator is aborting the transaction for a new producer with the same id.
 */
export function isProducerFenced(error: unknown, options: { committing?: boolean } = {}): boolean {
  // PRODUCER_FENCED (90) is newer than kafkajs's error table, which calls it "Unknown error code 90".
  return errorChain(error).some(
    (c) => c.type === 'INVALID_PRODUCER_EPOCH' || c.type === 'PRODUCER_FENCED' || (options.committing === true && c.type === 'CONCURRENT_TRANSACTIONS') || /KafkaJSProducerFenced|fenced|Unknown error code 90\b/i.test(`${c.name ?? ''} ${c.message ?? ''}`),
  )
}
