import type { DeclaredType } from './codec.js'
import type { JsonSchemaDocument } from './json-schema-validator.js'

/**
 * The column type each top-level property of JSON Schema documents declares, for a table made
 * from their records (--create-table): `integer` bigint, `number` double, `boolean` boolean,
 * `string` text (`format: date-time` a timestamp), `object` and `array` json. A property whose
 * type is not one of these alone (besides `null`), a `$ref` or a combinator declares nothing,
 * and neither does one the documents disagree about: the records' values decide those.
 */
export function declaredFieldTypes(documents: readonly JsonSchemaDocument[]): Map<string, DeclaredType> {
  const out = new Map<string, DeclaredType | null>()
  for (const document of documents) {
    const properties = objectOf(objectOf(document.schema)?.properties)
    if (!properties) continue
    for (const [name, property] of Object.entries(properties)) {
      const type = declaredType(property)
      if (!out.has(name)) out.set(name, type ?? null)
      else if (out.get(name) !== type) out.set(name, null)
    }
  }
  const agreed = new Map<string, DeclaredType>()
  for (const [name, type] of out) if (type) agreed.set(name, type)
  return agreed
}

function declaredType(property: unknown): DeclaredType | undefined {
  const p = objectOf(property)
  if (!p) return undefined
  const types = (Array.isArray(p.type) ? p.type : [p.type]).filter((t) => t !== 'null')
  if (types.length !== 1) return undefined
  switch (types[0]) {
    case 'integer':
      return 'bigint'
    case 'number':
      return 'double'
    case 'boolean':
      return 'boolean'
    case 'string':
      return p.format === 'date-time' ? 'timestamp' : 'text'
    case 'object':
    case 'array':
      return 'json'
    default:
      return undefined
  }
}

function objectOf(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}
