import { existsSync, readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { RecoveryError } from '../errors.js'
import type { JsonSchemaDocument } from './json-schema-validator.js'

/** `--schema` names a JSON Schema when it is one `.json` file (Avro schemas are `.avsc` files or directories of them). */
export function looksLikeJsonSchemaFile(path: string): boolean {
  if (!path.toLowerCase().endsWith('.json')) return false
  const abs = resolve(path)
  return !existsSync(abs) || !statSync(abs).isDirectory()
}

export function loadJsonSchemaFile(path: string): JsonSchemaDocument {
  const abs = resolve(path)
  let text: string
  try {
    text = readFileSync(abs, 'utf8')
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
    throw new RecoveryError(
      'BAD_SCHEMA',
      missing
        ? `${path} does not exist; --schema takes a JSON Schema file (.json) for json-schema.`
        : `Could not read the schema file ${abs}: ${(error as Error).message}.`,
      { cause: error, details: { path: abs } },
    )
  }
  try {
    return { schema: JSON.parse(text), label: path }
  } catch (error) {
    throw new RecoveryError('BAD_SCHEMA', `${abs} is not JSON: ${(error as Error).message}.`, { cause: error, details: { path: abs } })
  }
}
