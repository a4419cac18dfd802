import { readFileSync } from 'node:fs'
import { RecoveryError } from '../errors.js'

/** A schema file or its ids.json that cannot be used: BAD_SCHEMA, naming the file. */
export function badSchema(message: string, path: string, cause?: unknown): RecoveryError {
  return new RecoveryError('BAD_SCHEMA', message, { cause, details: { path } })
}

/**
 * The entries of a `DIR/ids.json` mapping Confluent schema ids to schema files
 * ({"1": "orders-v1.avsc"}), Avro's and Protobuf's alike: each id checked to be a schema id,
 * each file left for the caller to find (`kind` and `example` word the refusals).
 */
export function readIdMapEntries(path: string, kind: string, example: string): Array<{ id: number; key: string; file: unknown }> {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw badSchema(`${path} is not valid JSON: ${(error as Error).message}.`, path, error)
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw badSchema(`${path} must be a JSON object mapping schema ids to ${kind} files, like ${example}.`, path)
  return Object.entries(raw as Record<string, unknown>).map(([key, file]) => {
    const id = Number(key)
    if (!/^\d+$/.test(key) || !Number.isSafeInteger(id) || id > 0x7fffffff)
      throw badSchema(`${path} has the key "${key}", which is not a schema id (a whole number up to 2147483647).`, path)
    return { id, key, file }
  })
}
