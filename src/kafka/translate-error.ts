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

/** Kafka errors a wait can cure: the cluster (or its leaders) did not answer, or answered "not now". */
const RETRIABLE_KAFKA_ERRORS = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'BROKER_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  // Outside a commit (translateKafkaError checks that first): the coordinator still finishing
  // an earlier step of this transaction, seen after its leader failed over; reopening the
  // producer aborts the open transaction and the replay continues from its checkpoint.
  'CONCURRENT_TRANSACTIONS',
])

/** Answers to a group member's commit from a generation the group has left behind (a rebalance). */
const STALE_GENERATION_TYPES = /REBALANCE_IN_PROGRESS|ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID|FENCED_INSTANCE_ID/
const STALE_GENERATION_MESSAGE = /rebalanc|generation|member/i

/** What the caller was doing, where it decides whether the error means another run took its place. */
export interface TranslateContext {
  /** A transactional producer: fencing of its transactional id is `fenced`. */
  transactional?: boolean
  /** Committing a transaction: CONCURRENT_TRANSACTIONS that outlasted kafkajs's retries is fencing too. */
  committing?: boolean
  /** A consumer group member's commit: a refusal for a stale generation (a rebalance) is `fenced`. */
  groupCommit?: boolean
  /** What each broker (by address) led when the caller last looked: names the partitions an unreachable broker leaves without a leader. */
  leadership?: BrokerLeadership
}

/** Partitions of one topic by the address of the broker that leads them (plus its node id). */
export interface BrokerLeadership {
  topic: string
  byBroker: ReadonlyMap<string, { nodeId: number; partitions: readonly number[] }>
}

/**
 * Set on an error by a caller that knows which leader it was talking to (the range reader
 * fetches from each leader apart): translateKafkaError names that broker and its partitions.
 */
export interface LeaderScope {
  nodeId: number
  topic: string
  partitions: readonly number[]
}

/** Marks `error` as coming from the leader of `scope`'s partitions; returns it. */
export function withLeaderScope<E>(error: E, scope: LeaderScope): E {
  if (error && typeof error === 'object' && !('leaderScope' in error)) {
    try {
      Object.defineProperty(error, 'leaderScope', { value: scope, enumerable: false })
    } catch {
      // A frozen error keeps its plain message.
    }
  }
  return error
}

/** Node's verification failures: no chain to a trusted root, or a self-signed certificate. */
const UNTRUSTED_CERTIFICATE =
  /unable to verify the first certificate|unable to get (local )?issuer certificate|self.signed certificate|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT/i

/**
 * Turns a kafkajs error into a RecoveryError; our own errors pass through unchanged. The one
 * place that reads kafkajs's errors: it sets `retriable` (a wait can cure it) and `fenced`
 * (another run or a newer group generation took this one's place), which every retry,
 * outage and fencing decision reads.
 */
export function translateKafkaError(error: unknown, settings: ConnectionSettings, doing: string, context: TranslateContext = {}): RecoveryError {
  if (error instanceof RecoveryError) return error
  const e = error as { name?: string; type?: string; message?: string; originalError?: unknown; cause?: unknown }
  const chain = errorChain(error)
  // Ours, thrown inside kafkajs (the OAuth token provider) and wrapped by its retrier: already says what went wrong.
  const own = chain.find((c) => c instanceof RecoveryError)
  if (own) return own as RecoveryError
  const where = settings.brokers.join(',')
  if (context.groupCommit && (STALE_GENERATION_TYPES.test(e.type ?? '') || STALE_GENERATION_MESSAGE.test(e.message ?? ''))) {
    return new RecoveryError(
      'KAFKA_ERROR',
      `Kafka at ${where} refused ${doing}: the group has rebalanced since this member's generation (${e.type ?? e.name ?? 'an error'}).`,
      { cause: error, fenced: true, details: { brokers: settings.brokers, kafkaError: e.type } },
    )
  }
  if (context.transactional && isProducerFenced(error, { committing: context.committing })) {
    return new RecoveryError(
      'KAFKA_ERROR',
      `Kafka at ${where} fenced this producer's transactional id while ${doing}: another producer with the same id took it over.`,
      { cause: error, fenced: true, details: { brokers: settings.brokers, kafkaError: e.type } },
    )
  }
  const saslFailure = chain.find((c) => c.name === 'KafkaJSSASLAuthenticationError' || c.type === 'SASL_AUTHENTICATION_FAILED')
  if (saslFailure && settings.sasl?.oauth) {
    return new RecoveryError(
      'AUTHENTICATION_FAILED',
      `Kafka at ${where} refused the OAuth token from ${settings.sasl.oauth.tokenEndpoint}${settings.sasl.username ? ` for client id "${settings.sasl.username}"` : ''} while ${doing} (${redactText(saslFailure.message ?? '')}); check that its audience, issuer and scope are what the brokers expect (their sasl.oauthbearer.expected.* settings).`,
      { cause: error, details: { brokers: settings.brokers, tokenEndpoint: settings.sasl.oauth.tokenEndpoint } },
    )
  }
  if (saslFailure) {
    return new RecoveryError(
      'AUTHENTICATION_FAILED',
      `Kafka at ${where} refused the SASL credentials (${settings.sasl?.mechanism ?? 'none'} as ${settings.sasl?.username ?? '?'}) while ${doing}; check sasl.mechanism and the username/password in your client config.`,
      { cause: error, details: { brokers: settings.brokers } },
    )
  }
  const authz = chain.find((c) => c.type && AUTHORIZATION_TYPES.has(c.type))
  if (authz) {
    const principal = settings.sasl?.username ? ` to User:${settings.sasl.username}` : ''
    return new RecoveryError(
      'AUTHORIZATION_FAILED',
      `Kafka at ${where} denied ${doing}${principal} (${authz.type}); ask for the ACLs this needs, or use a principal that has them.`,
      { cause: error, details: { brokers: settings.brokers, kafkaError: authz.type } },
    )
  }
  const untrusted = chain.find((c) => UNTRUSTED_CERTIFICATE.test(`${c.code ?? ''} ${c.message ?? ''}`))
  if (untrusted) {
    return new RecoveryError(
      'BROKER_UNREACHABLE',
      `The TLS certificate of Kafka at ${where} is not signed by a CA this client trusts (${redactText(untrusted.message ?? untrusted.code ?? '')}) while ${doing}; set ssl.ca.location (or ssl.truststore.location) in your client config to the CA that signed the brokers' certificates.`,
      { cause: error, details: { brokers: settings.brokers } },
    )
  }
  // The broker's TLS alert when a listener that requires client certificates got none, or one it does not trust.
  const refused = chain
    .map((c) => /alert (bad certificate|certificate required|unknown ca|certificate unknown|unsupported certificate)/i.exec(c.message ?? ''))
    .find((m) => m !== null)
  if (refused) {
    return new RecoveryError(
      'AUTHENTICATION_FAILED',
      `Kafka at ${where} refused this client's TLS certificate (TLS alert: ${refused[1]!.toLowerCase()}) while ${doing}; the listener requires a client certificate signed by a CA the brokers trust: set ssl.keystore.location (or ssl.certificate.location and ssl.key.location) in your client config.`,
      { cause: error, details: { brokers: settings.brokers } },
    )
  }
  const tlsProblem = chain.find((c) => /certificate|self.signed|SSL|TLS|EPROTO|wrong version number/i.test(`${c.code ?? ''} ${c.message ?? ''}`))
  if (tlsProblem) {
    return new RecoveryError(
      'BROKER_UNREACHABLE',
      `TLS with Kafka at ${where} failed while ${doing} (${redactText(tlsProblem.message ?? '')}); check security.protocol and ssl.ca.location (or ssl.truststore.location) in your client config.`,
      { cause: error, details: { brokers: settings.brokers } },
    )
  }
  // Fencing says "…expired by the broker" and can come wrapped in a KafkaJSNonRetriableError: a
  // broker that answered, not one out of reach.
  const connection =
    !isProducerFenced(error) &&
    chain.some(
      (c) =>
        [
          'KafkaJSConnectionError',
          'KafkaJSNumberOfRetriesExceeded',
          'KafkaJSBrokerNotFound',
          'KafkaJSRequestTimeoutError',
          'KafkaJSConnectionClosedError',
          'KafkaJSNonRetriableError',
        ].includes(c.name ?? '') && /connect|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|timed out|Closed connection|broker/i.test(c.message ?? ''),
    )
  if (connection) return unreachable(settings, doing, error, context.leadership)
  const message = redactText(e.message ?? String(error))
  // kafkajs wraps the broker's answer (the error with a type) in KafkaJSNumberOfRetriesExceeded once its retries ran out.
  const type = e.type ?? chain.find((c) => c.type !== undefined)?.type
  const retriable = type !== undefined && RETRIABLE_KAFKA_ERRORS.has(type)
  // Kafka's own sentence leaves out which setting refuses and that a wait cures it.
  const why = type?.startsWith('NOT_ENOUGH_REPLICAS')
    ? " (the partition's in-sync replicas are fewer than its min.insync.replicas: a replica's broker is down or behind)"
    : ''
  return new RecoveryError(
    'KAFKA_ERROR',
    `Kafka at ${where} answered ${type ?? e.name ?? 'an error'} while ${doing}: ${message.replace(/\.\s*$/, '')}${why}.`,
    {
      cause: error,
      retriable,
      details: { brokers: settings.brokers, kafkaError: type },
    },
  )
}

/**
 * Kafka did not answer: retriable (TLS and authentication failures, which no wait cures, are
 * translated apart). When the error names the one broker that did not answer and it is not
 * the whole bootstrap list, the message names that broker and, where known, the partitions it
 * led, rather than blaming every address: in a cluster the others usually still answer.
 */
export function unreachable(settings: ConnectionSettings, doing: string, cause?: unknown, leadership?: BrokerLeadership): RecoveryError {
  const where = settings.brokers.join(',')
  const broker = unansweredBroker(cause)
  const one = broker !== undefined && !(settings.brokers.length === 1 && settings.brokers[0] === broker)
  const scope = one ? leaderScopeOf(cause, broker, leadership) : undefined
  const led = scope
    ? ` (node ${scope.nodeId}${scope.partitions.length > 0 ? `, leader of ${scope.topic} ${scope.partitions.length === 1 ? 'partition' : 'partitions'} ${scope.partitions.join(', ')}` : ''})`
    : ''
  const summary = one
    ? `Could not reach Kafka broker ${broker}${led} of the cluster at ${where} (from ${settings.source}) while ${doing}`
    : `Could not reach Kafka at ${where} (from ${settings.source}) while ${doing}`
  const advice = one
    ? 'check that broker; the others answer for the partitions they lead, and its partitions get a new leader once Kafka fences it.'
    : 'check that the brokers are up and the address is right, or pass --brokers host:port.'
  return new RecoveryError('BROKER_UNREACHABLE', `${summary}; ${advice}`, {
    cause,
    retriable: true,
    summary,
    details: {
      brokers: settings.brokers,
      ...(one ? { unreachableBroker: broker, ...(scope ? { nodeId: scope.nodeId, partitions: scope.partitions } : {}) } : {}),
    },
    nextSteps: ['recover groups --brokers host:port   # try another address', 'npm run kafka   # start a local broker for trying things out'],
  })
}

/** The broker address a kafkajs connection error names (its `broker` field, or "connect ECONNREFUSED host:port"). */
function unansweredBroker(cause: unknown): string | undefined {
  for (const c of errorChain(cause) as Array<{ broker?: unknown; message?: string }>) {
    if (typeof c.broker === 'string' && /:\d+$/.test(c.broker)) return c.broker
    const named = /\b(?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ECONNRESET)\s+(\S+:\d+)/.exec(c.message ?? '')
    if (named) return named[1]
  }
  return undefined
}

function leaderScopeOf(cause: unknown, broker: string, leadership: BrokerLeadership | undefined): LeaderScope | undefined {
  const marked = (errorChain(cause) as Array<{ leaderScope?: LeaderScope }>).find((c) => c.leaderScope !== undefined)?.leaderScope
  if (marked) return marked
  const known = leadership?.byBroker.get(broker)
  return known && leadership ? { nodeId: known.nodeId, topic: leadership.topic, partitions: known.partitions } : undefined
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
 * Answers to EndTxn(commit) that leave the outcome to the coordinator, seen when another producer
 * takes the transactional id over mid-commit: CONCURRENT_TRANSACTIONS that outlasted kafkajs's
 * retries, INVALID_TXN_STATE (the coordinator aborted it, KAFKA-20785) and UNKNOWN (seen here on a
 * loaded machine). Like fencing, the way on is to open the id again, which settles the
 * transaction, and to continue from the progress it committed.
 */
const UNDECIDED_COMMIT_TYPES = new Set(['CONCURRENT_TRANSACTIONS', 'INVALID_TXN_STATE', 'UNKNOWN'])

/**
 * Kafka's fencing of a transactional producer, anywhere in the error's chain of causes. While
 * `committing`, the answers of UNDECIDED_COMMIT_TYPES count too.
 */
export function isProducerFenced(error: unknown, options: { committing?: boolean } = {}): boolean {
  // PRODUCER_FENCED (90) is newer than kafkajs's error table, which calls it "Unknown error code 90".
  return errorChain(error).some(
    (c) =>
      c.type === 'INVALID_PRODUCER_EPOCH' ||
      c.type === 'PRODUCER_FENCED' ||
      (options.committing === true && c.type !== undefined && UNDECIDED_COMMIT_TYPES.has(c.type)) ||
      /KafkaJSProducerFenced|fenced|Unknown error code 90\b/i.test(`${c.name ?? ''} ${c.message ?? ''}`),
  )
}
