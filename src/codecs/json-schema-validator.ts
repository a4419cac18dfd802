import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { createRequire } from 'node:module'

/**
 * JSON Schema validation with Ajv: the most used JSON Schema validator for JavaScript, kept up
 * to date, which compiles a schema once into a JavaScript function (fast enough to validate
 * every record of a replay) and supports the drafts Confluent's registry serves (draft-07, its
 * default, and 2019-09 / 2020-12). `ajv-formats` adds the `format` checks (date-time, email,
 * uuid…) that Confluent's Java validator applies too.
 */

/** A JSON Schema document and where it came from ("orders.schema.json", "registry id 7"). */
export interface JsonSchemaDocument {
  schema: unknown
  label: string
  /** Schemas its `$ref`s name, by reference name (Confluent schema references). */
  references?: ReadonlyMap<string, unknown>
}

/** Why a value does not match: the failing place (a JSON Pointer, "" for the whole value) and the rule. */
export interface JsonSchemaViolation {
  /** JSON Pointer into the value ("/items/0/price"), "" for the value itself. */
  path: string
  /** The JSON Schema keyword that failed (type, required, minimum, additionalProperties…). */
  rule: string
  /** One sentence: "/items/0/price must be >= 0 (rule minimum)". */
  message: string
}

export interface CompiledJsonSchema {
  readonly label: string
  /** undefined when the value matches; with `fillDefaults`, missing properties get their schema `default`. */
  check(value: unknown): JsonSchemaViolation | undefined
}

/** The schema itself cannot be used (not a schema, an unsupported draft, a $ref to nothing). */
export class UnusableJsonSchemaError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'UnusableJsonSchemaError'
  }
}

type AjvClass = typeof Ajv | typeof Ajv2019 | typeof Ajv2020

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv

/**
 * Compiles a schema (and the schemas it references) once. `fillDefaults`: a reader schema's
 * `default`s fill properties older writers did not write, as Avro readers do.
 */
export function compileJsonSchema(document: JsonSchemaDocument, options: { fillDefaults?: boolean } = {}): CompiledJsonSchema {
  const { schema, label } = document
  if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object' || Array.isArray(schema)))
    throw new UnusableJsonSchemaError(
      `${label} is not a JSON Schema: it is ${Array.isArray(schema) ? 'an array' : schema === null ? 'null' : typeof schema}, not an object`,
    )
  const AjvFor = ajvClassFor(schema, label)
  const ajvOptions: Options = {
    // Registry schemas carry keywords Ajv does not know (Confluent's connect.* annotations).
    strict: false,
    allErrors: false,
    useDefaults: options.fillDefaults === true,
    // Confluent's JSON Schema serializer validates formats; an unknown format is not an error.
    validateFormats: true,
  }
  const ajv = new AjvFor(ajvOptions) as Ajv
  addFormats(ajv)
  if (AjvFor === Ajv) ajv.addMetaSchema(draft06MetaSchema())
  let validate: ValidateFunction
  try {
    for (const [name, referenced] of document.references ?? []) {
      ajv.addSchema(referenced as object, name)
      // A root schema with an $id resolves relative $refs against it.
      const base = typeof schema === 'object' && schema !== null ? (schema as { $id?: unknown }).$id : undefined
      if (typeof base === 'string') {
        const resolved = resolveAgainst(base, name)
        if (resolved !== undefined && resolved !== name && ajv.getSchema(resolved) === undefined) ajv.addSchema(referenced as object, resolved)
      }
    }
    validate = ajv.compile(schema as object)
  } catch (error) {
    throw new UnusableJsonSchemaError(`${label} cannot be compiled: ${(error as Error).message}`, error)
  }
  return {
    label,
    check(value) {
      try {
        if (validate(value)) return undefined
      } catch (error) {
        // Ajv validates recursively: a value nested thousands deep exhausts the stack.
        if (!(error instanceof RangeError)) throw error
        return { path: '', rule: 'nesting', message: 'the value nests too deeply to be validated (the call stack ran out)' }
      }
      return violationOf(validate.errors?.[0])
    },
  }
}

function ajvClassFor(schema: unknown, label: string): AjvClass {
  const dialect = typeof schema === 'object' && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined
  if (dialect === undefined) return Ajv // Confluent's default dialect is draft-07.
  if (typeof dialect !== 'string') throw new UnusableJsonSchemaError(`${label} has a $schema that is not a string`)
  if (dialect.includes('2020-12')) return Ajv2020
  if (dialect.includes('2019-09')) return Ajv2019
  if (dialect.includes('draft-07') || dialect.includes('draft-06')) return Ajv
  throw new UnusableJsonSchemaError(
    `${label} is written in ${dialect}; recover validates draft-06, draft-07, 2019-09 and 2020-12 (the drafts Confluent's registry serves)`,
  )
}

let draft06: object | undefined
function draft06MetaSchema(): object {
  draft06 ??= createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-06.json') as object
  return draft06
}

function resolveAgainst(base: string, ref: string): string | undefined {
  try {
    return new URL(ref, base).toString()
  } catch {
    return undefined
  }
}

function violationOf(error: ErrorObject | undefined): JsonSchemaViolation {
  if (!error) return { path: '', rule: 'unknown', message: 'the value does not match the schema' }
  let path = error.instancePath
  // `required` and `additionalProperties` name the property in params: point at it.
  const params = error.params as { missingProperty?: string; additionalProperty?: string }
  const property = params.missingProperty ?? params.additionalProperty
  if (property !== undefined) path = `${path}/${property.replace(/~/g, '~0').replace(/\//g, '~1')}`
  const where = path === '' ? 'the value' : path
  const detail =
    params.additionalProperty !== undefined
      ? 'is not allowed (additionalProperties is false)'
      : params.missingProperty !== undefined
        ? 'is required and missing'
        : error.message
  return { path, rule: error.keyword, message: `${where} ${detail ?? 'does not match'} (rule ${error.keyword}, schema ${error.schemaPath})` }
}
