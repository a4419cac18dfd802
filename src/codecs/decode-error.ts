/**
 * Why a record could not be decoded. These are the record's own faults, so the record goes to
 * quarantine and the run goes on. `registry-unreachable` is deliberately not one of them: it is
 * an environment failure, a RecoveryError with code REGISTRY_UNREACHABLE (see
 * ENVIRONMENT_DECODE_KINDS), and no record is blamed for it.
 */
export const RECORD_DECODE_KINDS = [
  'not-json',
  'invalid-utf8',
  'avro-truncated',
  'avro-bad-magic',
  'avro-unknown-schema-id',
  /** A well-framed body that is not valid for its schema: a bad union or enum index, a negative length, bytes left over. */
  'avro-invalid',
  'schema-resolution',
  /** JSON Schema, Confluent-framed: byte 0 is not the magic byte 0 (and no --schema to validate plain JSON with). */
  'json-schema-bad-magic',
  /** JSON Schema: shorter than the 5-byte Confluent header. */
  'json-schema-truncated',
  'json-schema-unknown-schema-id',
  /** JSON Schema: the body after the header is not JSON (or not UTF-8). */
  'json-schema-not-json',
  /** JSON Schema: valid JSON that breaks a rule of its schema; `field` is the failing path, `rule` the keyword. */
  'json-schema-invalid',
  /** Confluent-framed Protobuf whose byte 0 is not the magic byte 0. */
  'protobuf-bad-magic',
  /** The payload ends inside the header, the message-index array, a field or a nested message. */
  'protobuf-truncated',
  'protobuf-unknown-schema-id',
  /** The message-index array names no message of the schema (or is malformed). */
  'protobuf-unknown-message-index',
  /** A known field arrived with a wire type its type never has: the writer used another schema. */
  'protobuf-wrong-wire-type',
  /** Bytes that are not a Protobuf message of the schema: a wire type that does not exist, nesting too deep, a value out of range. */
  'protobuf-invalid',
] as const
export type RecordDecodeKind = (typeof RECORD_DECODE_KINDS)[number]

/** Decode failures that are the environment's fault: thrown as RecoveryError, never as DecodeError. */
export const ENVIRONMENT_DECODE_KINDS = ['registry-unreachable'] as const
export type EnvironmentDecodeKind = (typeof ENVIRONMENT_DECODE_KINDS)[number]

export type DecodeKind = RecordDecodeKind | EnvironmentDecodeKind

export interface DecodeErrorDetails {
  /** Byte offset in the payload where decoding failed, where known. */
  position?: number
  /** Confluent schema id from the payload's header, where there was one. */
  schemaId?: number
  /** For schema-resolution: the field (path) that cannot be resolved. */
  field?: string
  /** For json-schema-invalid: the JSON Schema keyword that failed (type, required, minimum…). */
  rule?: string
}

/** A record that cannot be decoded. Not a RecoveryError: it never ends a run by itself. */
export class DecodeError extends Error {
  readonly stage = 'decode' as const
  readonly kind: RecordDecodeKind
  readonly position: number | undefined
  readonly schemaId: number | undefined
  readonly field: string | undefined
  readonly rule: string | undefined

  constructor(kind: RecordDecodeKind, message: string, details: DecodeErrorDetails = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'DecodeError'
    this.kind = kind
    this.position = details.position
    this.schemaId = details.schemaId
    this.field = details.field
    this.rule = details.rule
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { stage: this.stage, kind: this.kind, message: this.message }
    if (this.position !== undefined) out.position = this.position
    if (this.schemaId !== undefined) out.schemaId = this.schemaId
    if (this.field !== undefined) out.field = this.field
    if (this.rule !== undefined) out.rule = this.rule
    return out
  }
}

export function isDecodeError(error: unknown): error is DecodeError {
  return error instanceof DecodeError
}

export const ENCODE_KINDS = [
  'not-serializable',
  'not-text',
  'not-bytes',
  'avro-invalid-value',
  'avro-unknown-schema-id',
  'json-schema-invalid-value',
  'json-schema-unknown-schema-id',
  'protobuf-invalid-value',
  'protobuf-unknown-schema-id',
  // Re-encoding a Protobuf record like its source (its schema id and message indexes) fails as reading it did.
  'protobuf-unknown-message-index',
  'schema-resolution',
] as const
export type EncodeKind = (typeof ENCODE_KINDS)[number]

/** A value the chosen format cannot hold (the sink maps it to its own quarantine stage). */
export class EncodeError extends Error {
  readonly stage = 'encode' as const
  readonly kind: EncodeKind
  /** For Avro: the path of the first field that does not fit the schema. */
  readonly field: string | undefined

  constructor(kind: EncodeKind, message: string, field?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'EncodeError'
    this.kind = kind
    this.field = field
  }

  toJSON(): Record<string, unknown> {
    return { stage: this.stage, kind: this.kind, message: this.message, ...(this.field === undefined ? {} : { field: this.field }) }
  }
}

export function isEncodeError(error: unknown): error is EncodeError {
  return error instanceof EncodeError
}
