/**
 * Redacts personal fields of JSON or Avro record values before they leave for a sink: each
 * named top-level field that holds a string is replaced by "redacted:" and the first 16 hex
 * digits of its SHA-256, so equal values stay equal (joins and duplicate audits still work)
 * while the value itself is gone. Fields: RECOVER_REDACT_FIELDS (comma-separated), default
 * customer and customer_id (the fixture orders' customer reference in schema v2 and v1).
 *
 *   RECOVER_REDACT_FIELDS=email,phone recover replay --topic users --value-format json \
 *     --transform plugins/redact-fields.ts --sink file:users.jsonl
 */
import { createHash } from 'node:crypto'
import { defineTransform } from 'recover/plugin-api'

const fields = (process.env.RECOVER_REDACT_FIELDS ?? 'customer,customer_id')
  .split(',')
  .map((f) => f.trim())
  .filter((f) => f !== '')

function redact(text: string): string {
  return `redacted:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`
}

export default defineTransform<Record<string, unknown> | null>({
  name: 'redact-fields',
  version: '1.0.0',
  transform(record) {
    const value = record.value
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return record
    let changed: Record<string, unknown> | undefined
    for (const field of fields) {
      const v = value[field]
      if (typeof v !== 'string') continue
      changed ??= { ...value }
      changed[field] = redact(v)
    }
    return changed ? { ...record, value: changed } : record
  },
})
