import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from './paths.js'

interface Field {
  path: string
  type: string
  nullable: boolean
  optional: boolean
}

/** The record types of docs/progress-events.md and their fields, read from its tables ('*': fields of every record). */
export function progressSchema(): Map<string, Field[]> {
  const doc = readFileSync(join(repoRoot(), 'docs', 'progress-events.md'), 'utf8')
  const schema = new Map<string, Field[]>()
  let current: Field[] | undefined
  for (const line of doc.split('\n')) {
    const heading = /^### `([^`]+)`$/.exec(line)
    if (heading) schema.set(heading[1]!, (current = []))
    else if (/^#{1,2} /.test(line)) current = undefined
    const row = /^\| `([^`]+)` \| ([^|]+) \|/.exec(line)
    if (row && current) {
      let type = row[2]!.trim()
      const optional = type.endsWith(', optional')
      if (optional) type = type.slice(0, -', optional'.length)
      const nullable = type.endsWith(' or null')
      if (nullable) type = type.slice(0, -' or null'.length)
      current.push({ path: row[1]!, type, nullable, optional })
    }
  }
  return schema
}

/**
 * What is wrong with one stderr line against the documented schema: not JSON, an unknown
 * type, a missing or undocumented field, a value of the wrong type. Empty when it matches.
 */
export function progressLineProblems(line: string, schema = progressSchema()): string[] {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(line) as Record<string, unknown>
  } catch {
    return [`not JSON: ${line}`]
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return [`not an object: ${line}`]
  const fields = schema.get(String(record.type))
  if (!fields) return [`undocumented type ${JSON.stringify(record.type)}: ${line}`]
  const all = [...schema.get('*')!, ...fields]
  const problems: string[] = []
  if (record.v !== 1) problems.push(`v is ${JSON.stringify(record.v)}, not 1`)
  for (const field of all) {
    for (const { value, at } of valuesAt(record, field.path)) {
      if (value === undefined) {
        if (!field.optional) problems.push(`${record.type}: ${at} is missing`)
      } else if (!(value === null ? field.nullable : hasType(value, field.type))) {
        problems.push(`${record.type}: ${at} is ${JSON.stringify(value)}, not ${field.type}${field.nullable ? ' or null' : ''}`)
      }
    }
  }
  const documented = new Set(all.map((f) => f.path))
  for (const path of pathsOf(record)) if (!documented.has(path)) problems.push(`${record.type}: ${path} is not documented`)
  return problems.map((p) => `${p} in ${line}`)
}

function hasType(value: unknown, type: string): boolean {
  if (type.endsWith('[]')) return Array.isArray(value) && value.every((v) => hasType(v, type.slice(0, -2)))
  switch (type) {
    case 'integer':
      return Number.isInteger(value)
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'string':
      return typeof value === 'string'
    case 'boolean':
      return typeof value === 'boolean'
    case 'decimal':
      return typeof value === 'string' && /^-?\d+$/.test(value)
    case 'time':
      return typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value) && !Number.isNaN(Date.parse(value))
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value)
    default:
      throw new Error(`docs/progress-events.md uses an unknown type: ${type}`)
  }
}

/** The values a documented path (`a`, `a.b`, `a[].b`) names in a record, with where each is. */
function valuesAt(record: unknown, path: string): Array<{ value: unknown; at: string }> {
  let found: Array<{ value: unknown; at: string }> = [{ value: record, at: '' }]
  for (const part of path.split('.')) {
    const many = part.endsWith('[]')
    const key = many ? part.slice(0, -2) : part
    const next: Array<{ value: unknown; at: string }> = []
    for (const { value, at } of found) {
      const child = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined
      const here = at ? `${at}.${key}` : key
      if (many && Array.isArray(child)) child.forEach((item, i) => next.push({ value: item, at: `${here}[${i}]` }))
      else if (!many) next.push({ value: child, at: here })
    }
    found = next
  }
  return found
}

/** Every field path a record has, in the documented spelling (`partitions[].start`). */
function pathsOf(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return []
  const out: string[] = []
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key
    out.push(path)
    if (Array.isArray(child)) {
      for (const item of child) if (item !== null && typeof item === 'object') out.push(...pathsOf(item, `${path}[]`))
    } else out.push(...pathsOf(child, path))
  }
  return [...new Set(out)]
}
