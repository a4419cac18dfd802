/**
 * The one error class users can meet. Every code belongs to a category, and the category
 * decides the exit code (docs/errors.md). Anything that is not a RecoveryError is a bug.
 */

export type ErrorCategory = 'usage' | 'findings' | 'safety' | 'environment' | 'internal' | 'interrupted'

export const EXIT_CODES: Record<ErrorCategory, number> = {
  internal: 1,
  usage: 2,
  findings: 3,
  safety: 4,
  environment: 5,
  // Ctrl-C: what a shell reports for a process ended by SIGINT (128 + 2).
  interrupted: 130,
}

/** The closed set of codes, each with its category. docs/errors.md has one entry per code. */
export const ERROR_CODES = {
  USAGE: 'usage',
  BAD_TIME_SPEC: 'usage',
  BAD_DURATION: 'usage',
  BAD_CONFIG: 'usage',
  CONFIG_NOT_FOUND: 'usage',
  UNKNOWN_CLUSTER: 'usage',
  BAD_CLIENT_CONFIG: 'usage',
  GROUP_NOT_FOUND: 'usage',
  TOPIC_NOT_FOUND: 'usage',
  PARTITION_NOT_FOUND: 'usage',
  INVERTED_RANGE: 'usage',
  EMPTY_RANGE: 'usage',
  BAD_PREDICATE: 'usage',
  NO_MATCH: 'usage',
  OFFSET_NOT_IN_LOG: 'usage',
  FOLLOW_CONFLICT: 'usage',
  FINDINGS_OVER_THRESHOLD: 'findings',
  FAILURE_RATE_EXCEEDED: 'findings',
  CONFIRMATION_REQUIRED: 'safety',
  GROUP_ACTIVE: 'safety',
  CLUSTER_MISMATCH: 'safety',
  OFFSETS_CHANGED: 'safety',
  NOT_A_REPLAY_GROUP: 'safety',
  BROKER_UNREACHABLE: 'environment',
  AUTHENTICATION_FAILED: 'environment',
  TOKEN_ENDPOINT_FAILED: 'environment',
  AUTHORIZATION_FAILED: 'environment',
  KAFKA_ERROR: 'environment',
  JAVA_MISSING: 'environment',
  MAVEN_MISSING: 'environment',
  KAFKA_JARS_UNAVAILABLE: 'environment',
  LOCAL_BROKER_FAILED: 'environment',
  JOURNAL_FAILED: 'environment',
  NO_JOURNAL: 'usage',
  SEEK_PARTIAL: 'environment',
  INTERNAL: 'internal',
  BAD_SCHEMA: 'usage',
  INCOMPATIBLE_SCHEMAS: 'usage',
  REGISTRY_UNREACHABLE: 'environment',
  REGISTRY_AUTH_FAILED: 'environment',
  REGISTRY_ERROR: 'environment',
  COMPRESSION_CODEC_UNAVAILABLE: 'environment',
  PLUGIN_NOT_FOUND: 'usage',
  BAD_PLUGIN: 'usage',
  BAD_SINK_URI: 'usage',
  BAD_SOURCE: 'usage',
  BAD_HEADER_RULE: 'usage',
  SINK_FAILED: 'environment',
  SINK_UNREACHABLE: 'environment',
  SINK_TABLE_INVALID: 'usage',
  SINK_NOT_EMPTY: 'safety',
  QUARANTINE_FAILED: 'environment',
  CHECKPOINT_EXISTS: 'usage',
  CHECKPOINT_MISMATCH: 'usage',
  CHECKPOINT_FAILED: 'environment',
  RECONCILIATION_FAILED: 'internal',
  UNKNOWN_KEY_FIELD: 'usage',
  BAD_FAIL_ON: 'usage',
  AUDIT_DB_FAILED: 'environment',
  AUDIT_SINK_UNREADABLE: 'environment',
  MIRROR_IS_SOURCE: 'usage',
  REPORT_FAILED: 'environment',
  DEMO_STEP_FAILED: 'environment',
  RUNBOOK_NOT_FOUND: 'usage',
  BAD_RUNBOOK: 'usage',
  RUNBOOK_VARIABLE_MISSING: 'usage',
  RUNBOOK_STEP_FAILED: 'safety',
  RUNBOOK_RUN_NOT_FOUND: 'usage',
  BAD_QUARANTINE_URI: 'usage',
  QUARANTINE_RECORD_NOT_FOUND: 'usage',
  NOTHING_SELECTED: 'usage',
  CANARY_FAILED: 'safety',
  REDRIVE_FAILED: 'environment',
  AUDIT_TRAIL_FAILED: 'environment',
  DECLINED: 'safety',
  INTERRUPTED: 'interrupted',
  CONNECT_UNREACHABLE: 'environment',
  CONNECT_AUTH_FAILED: 'environment',
  CONNECT_ERROR: 'environment',
  CONNECTOR_NOT_FOUND: 'usage',
  CONNECTOR_NOT_STOPPED: 'safety',
  CONNECT_OFFSETS_REFUSED: 'safety',
  CONNECT_SEEK_PARTIAL: 'environment',
  CONNECT_MISMATCH: 'safety',
  BUCKET_ACCESS_DENIED: 'environment',
} as const satisfies Record<string, ErrorCategory>

export type ErrorCode = keyof typeof ERROR_CODES

export interface RecoveryErrorOptions {
  /** Runnable next steps, printed under the message. */
  nextSteps?: string[]
  /** JSON-safe details for --json output. Never put secrets here. */
  details?: Record<string, unknown>
  cause?: unknown
  /**
   * A wait can cure it: Kafka did not answer, or answered "not now". Set only where Kafka and
   * sink errors are translated (src/kafka/translate-error.ts, the sink adapters); what waits
   * and retries reads this, never the message.
   */
  retriable?: boolean
  /**
   * Another run took this one's place (a Kafka transactional id, a PostgreSQL progress row, a
   * consumer group's newer generation): what this run had not committed was aborted, and the
   * other continues from what was committed. Also shown as `details.fenced` under --json.
   */
  fenced?: boolean
  /** The message's first clause, without its advice: for one-line reports (a replay's waiting line). Default: the message. */
  summary?: string
}

export class RecoveryError extends Error {
  readonly code: ErrorCode
  readonly category: ErrorCategory
  readonly exitCode: number
  readonly nextSteps: string[]
  readonly details: Record<string, unknown>
  readonly retriable: boolean
  readonly fenced: boolean
  readonly summary: string

  constructor(code: ErrorCode, message: string, options: RecoveryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RecoveryError'
    this.code = code
    this.category = ERROR_CODES[code]
    this.exitCode = EXIT_CODES[this.category]
    this.nextSteps = options.nextSteps ?? []
    this.details = options.fenced ? { ...options.details, fenced: true } : (options.details ?? {})
    this.retriable = options.retriable ?? false
    this.fenced = options.fenced ?? false
    this.summary = options.summary ?? message
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      category: this.category,
      exitCode: this.exitCode,
      message: this.message,
      nextSteps: this.nextSteps,
      details: this.details,
    }
  }
}

export function isRecoveryError(error: unknown): error is RecoveryError {
  return error instanceof RecoveryError
}

/** Another run took this one's place (RecoveryErrorOptions.fenced). */
export function isFencedError(error: unknown): boolean {
  return error instanceof RecoveryError && error.fenced
}

/** A wait can cure it (RecoveryErrorOptions.retriable). */
export function isRetriableError(error: unknown): boolean {
  return error instanceof RecoveryError && error.retriable
}
