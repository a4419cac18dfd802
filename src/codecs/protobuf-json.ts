import protobuf from 'protobufjs'
import protojson from 'protobufjs/ext/protojson.js'
import { longToString, setOwn, type WellKnownPrinter, wellKnownPrinter } from './protobuf-wkt-json.js'

/**
 * Protobuf messages <-> the canonical Protobuf JSON mapping (what `JsonFormat` and protoc
 * print): lowerCamelCase names, 64-bit integers as decimal strings (exact), enums by name,
 * bytes as base64, well-known types in their JSON forms (Timestamp as RFC 3339, Duration as
 * "1.5s", wrappers as their value, Struct as a JSON object, Any with "@type"). Two choices the
 * mapping allows, for stable table columns: fields without presence are always printed (with
 * their default), and an absent message field is printed as null. Unknown fields are kept:
 * `$unknownFields` lists them, and writing the value back restores them byte for byte.
 */

/** A known field sent with a wire type its type never has: the writer's schema disagrees. */
export class WrongWireTypeError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message)
  }
}

export const UNKNOWN_FIELDS_KEY = '$unknownFields'

export interface UnknownFieldJson {
  number: number
  wireType: 'varint' | 'fixed64' | 'length-delimited' | 'group' | 'fixed32'
  /** varint, fixed32, fixed64: the unsigned value in decimal; length-delimited and group: base64. */
  value: string
}

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'group', 'group-end', 'fixed32'] as const
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'])
/** Types whose JSON forms protobufjs's ProtoJSON writes (Any is handled here, to show unknown type URLs). */
const WKT_BY_LIBRARY = new Set([
  '.google.protobuf.Timestamp',
  '.google.protobuf.Duration',
  '.google.protobuf.Struct',
  '.google.protobuf.Value',
  '.google.protobuf.ListValue',
  '.google.protobuf.FieldMask',
  '.google.protobuf.Empty',
  '.google.protobuf.DoubleValue',
  '.google.protobuf.FloatValue',
  '.google.protobuf.Int64Value',
  '.google.protobuf.UInt64Value',
  '.google.protobuf.Int32Value',
  '.google.protobuf.UInt32Value',
  '.google.protobuf.BoolValue',
  '.google.protobuf.StringValue',
  '.google.protobuf.BytesValue',
])
const ANY = '.google.protobuf.Any'

interface FieldPlan {
  field: protobuf.Field
  name: string
  jsonName: string
  kind: 'message' | 'enum' | 'scalar'
  /** The message or enum type, resolved. */
  resolved: protobuf.Type | protobuf.Enum | null
  repeated: boolean
  map: boolean
  /** Printed when the field is absent: a default (no presence), null (message), undefined (omit: oneof members, optional). */
  absent: unknown
  /** Wire types a value of this field may arrive with. */
  wireTypes: readonly number[]
  /** google.protobuf.NullValue, printed as null. */
  nullValue: boolean
}

/** How a message type prints: its fields, or a well-known type's own form. Built once per type (fullName is computed on every read). */
interface TypePlan {
  fields: FieldPlan[]
  /** Printed by protobufjs's ProtoJSON. */
  wkt: boolean
  any: boolean
  /** A well-known type recover prints itself (Timestamp, Duration, wrappers, Struct…), without the library's per-value lookups. */
  printer: WellKnownPrinter | undefined
  /** The schema root (an Any's packed type is looked up there; `root` walks the parents on every read). */
  root: protobuf.Root
}

const plans = new WeakMap<protobuf.Type, TypePlan>()

function typePlanOf(type: protobuf.Type): TypePlan {
  let plan = plans.get(type)
  if (plan) return plan
  const name = type.fullName
  plan = { fields: fieldPlans(type), wkt: WKT_BY_LIBRARY.has(name), any: name === ANY, printer: wellKnownPrinter(name), root: type.root as protobuf.Root }
  plans.set(type, plan)
  return plan
}

function planOf(type: protobuf.Type): FieldPlan[] {
  return typePlanOf(type).fields
}

function fieldPlans(type: protobuf.Type): FieldPlan[] {
  return type.fieldsArray.map((f) => {
    const field = f.resolve()
    const resolved = field.resolvedType as protobuf.Type | protobuf.Enum | null
    const kind = resolved instanceof protobuf.Type ? 'message' : resolved instanceof protobuf.Enum ? 'enum' : 'scalar'
    return {
      field,
      name: field.name,
      jsonName: field.jsonName ?? field.name,
      kind,
      resolved,
      repeated: field.repeated,
      map: field.map,
      absent: absentValue(field, kind, resolved),
      wireTypes: wireTypesOf(field, kind),
      nullValue: kind === 'enum' && resolved!.fullName === '.google.protobuf.NullValue',
    }
  })
}

function absentValue(field: protobuf.Field, kind: FieldPlan['kind'], resolved: FieldPlan['resolved']): unknown {
  if (field.map) return {}
  if (field.repeated) return []
  if (field.partOf) return undefined
  if (kind === 'message') return null
  if (field.hasPresence) return undefined
  if (kind === 'enum') {
    const values = (resolved as protobuf.Enum).valuesById
    return resolved!.fullName === '.google.protobuf.NullValue' ? null : (values[0] ?? 0)
  }
  if (LONG_TYPES.has(field.type)) return '0'
  if (field.type === 'string' || field.type === 'bytes') return ''
  if (field.type === 'bool') return false
  return 0
}

function wireTypesOf(field: protobuf.Field, kind: FieldPlan['kind']): number[] {
  if (field.map) return [2]
  if (kind === 'message') return field.delimited ? [3] : [2]
  const basic = kind === 'enum' ? 0 : (protobuf.types.basic as Record<string, number | undefined>)[field.type]
  if (basic === undefined) return [2]
  return field.repeated && basic !== 2 ? [basic, 2] : [basic]
}

/**
 * Where a value sits in the record ("items[2].sku"), for failures only: built as a chain of
 * steps for message values and rendered when a failure names it, not a string per field.
 */
interface FieldPath {
  up: FieldPath | undefined
  step: string
}

function pathText(path: FieldPath | undefined): string {
  let text = ''
  for (let p = path; p; p = p.up) text = p.step + text
  return text.startsWith('.') ? text.slice(1) : text
}

const step = (up: FieldPath | undefined, text: string): FieldPath => ({ up, step: text })

function isEmptyObject(value: object): boolean {
  for (const _ in value) return false
  return true
}

/** The canonical JSON of a decoded message. Throws WrongWireTypeError; other errors are the library's (a Timestamp out of range). */
export function messageToJson(type: protobuf.Type, message: protobuf.Message, path?: FieldPath): unknown {
  const typePlan = typePlanOf(type)
  if (typePlan.printer) return typePlan.printer(message)
  if (typePlan.wkt) return protojson.toJson(type, message)
  if (typePlan.any) return anyToJson(typePlan.root, message, path)
  const out: Record<string, unknown> = {}
  const m = message as unknown as Record<string, unknown>
  for (const plan of typePlan.fields) {
    const value = m[plan.name]
    if (value === undefined || value === null || (plan.map && isEmptyObject(value as object)) || (plan.repeated && (value as unknown[]).length === 0)) {
      if (plan.absent !== undefined) out[plan.jsonName] = plan.map ? {} : plan.repeated ? [] : plan.absent
      continue
    }
    const isMessage = plan.kind === 'message'
    if (plan.map) {
      const entries: Record<string, unknown> = {}
      const keyType = (plan.field as unknown as protobuf.MapField).keyType
      const longKey = LONG_TYPES.has(keyType)
      const unsignedKey = keyType === 'uint64' || keyType === 'fixed64'
      const at = isMessage ? step(path, `.${plan.name}`) : undefined
      for (const k of Object.keys(value as object)) {
        const key = longKey ? String(protobuf.util.longFromKey(k, unsignedKey)) : k
        setOwn(entries, key, singularToJson(plan, (value as Record<string, unknown>)[k], at && step(at, `[${key}]`)))
      }
      out[plan.jsonName] = entries
    } else if (plan.repeated) {
      const list = value as unknown[]
      const json = new Array<unknown>(list.length)
      const at = isMessage ? step(path, `.${plan.name}`) : undefined
      for (let i = 0; i < list.length; i++) json[i] = singularToJson(plan, list[i], at && step(at, `[${i}]`))
      out[plan.jsonName] = json
    } else out[plan.jsonName] = singularToJson(plan, value, isMessage ? step(path, `.${plan.name}`) : undefined)
  }
  const unknowns = (message as { $unknowns?: Uint8Array[] }).$unknowns
  if (unknowns?.length) out[UNKNOWN_FIELDS_KEY] = unknownsToJson(type, unknowns, path)
  return out
}

function singularToJson(plan: FieldPlan, value: unknown, path: FieldPath | undefined): unknown {
  if (plan.kind === 'message') return messageToJson(plan.resolved as protobuf.Type, value as protobuf.Message, path)
  if (plan.kind === 'enum') {
    if (plan.nullValue) return null
    return (plan.resolved as protobuf.Enum).valuesById[value as number] ?? value
  }
  switch (plan.field.type) {
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return longToString(value)
    case 'float':
    case 'double':
      return Number.isFinite(value) ? value : String(value)
    case 'bytes':
      return Buffer.from(value as Uint8Array).toString('base64')
    default:
      return value
  }
}

/** Any: the packed message's fields with "@type" when its type is in the schema, else "@type" and the base64 bytes. */
function anyToJson(root: protobuf.Root, message: protobuf.Message, path: FieldPath | undefined): unknown {
  const m = message as unknown as { type_url?: string; value?: Uint8Array }
  const url = m.type_url ?? ''
  const bytes = m.value ?? new Uint8Array(0)
  if (url === '') return {}
  const name = url.slice(url.lastIndexOf('/') + 1)
  const packed = anyType(root, name)
  if (!packed) return { '@type': url, value: Buffer.from(bytes).toString('base64') }
  const reader = protobuf.Reader.create(bytes)
  reader.discardUnknown = false
  const inner = messageToJson(packed, packed.decode(reader), step(path, `<${name}>`))
  const packedPlan = typePlanOf(packed)
  if (packedPlan.wkt || packedPlan.any) return { '@type': url, value: inner }
  return { '@type': url, ...(inner as Record<string, unknown>) }
}

const anyTypes = new WeakMap<protobuf.Root, Map<string, protobuf.Type | null>>()

/** The message type an Any's type URL names, looked up once per root and name. */
function anyType(root: protobuf.Root, name: string): protobuf.Type | null {
  let known = anyTypes.get(root)
  if (!known) {
    known = new Map()
    anyTypes.set(root, known)
  }
  let type = known.get(name)
  if (type === undefined) {
    const found = name ? root.lookup(name) : null
    type = found instanceof protobuf.Type ? found : null
    if (known.size < 1_000) known.set(name, type)
  }
  return type
}

function unknownsToJson(type: protobuf.Type, unknowns: readonly Uint8Array[], path: FieldPath | undefined): UnknownFieldJson[] {
  return unknowns.map((raw) => {
    const reader = protobuf.Reader.create(raw)
    const tag = reader.uint32()
    const number = tag >>> 3
    const wire = tag & 7
    const field = type.fieldsById[number]
    if (field) {
      const plan = planOf(type).find((p) => p.field === field)!
      if (!plan.wireTypes.includes(wire)) {
        const at = pathText(step(path, `.${field.name}`))
        throw new WrongWireTypeError(
          `field ${at} (number ${number}, ${field.map ? 'a map' : field.type}) arrived with wire type ${wire} (${WIRE_NAMES[wire] ?? 'invalid'}), not ${plan.wireTypes.map((w) => `${w} (${WIRE_NAMES[w]})`).join(' or ')}`,
          at,
        )
      }
    }
    const rest = raw.subarray(reader.pos)
    switch (wire) {
      case 0:
        return { number, wireType: 'varint', value: (reader.uint64() as unknown as { toString(): string }).toString() }
      case 1:
        return { number, wireType: 'fixed64', value: Buffer.from(rest).readBigUInt64LE(0).toString() }
      case 5:
        return { number, wireType: 'fixed32', value: Buffer.from(rest).readUInt32LE(0).toString() }
      case 2:
        return { number, wireType: 'length-delimited', value: Buffer.from(reader.bytes()).toString('base64') }
      default: {
        // A group: the bytes between its start and end tags.
        const end = protobuf.Writer.create()
          .uint32((number << 3) | 4)
          .finish().length
        return { number, wireType: 'group', value: Buffer.from(rest.subarray(0, rest.length - end)).toString('base64') }
      }
    }
  })
}

/** The raw bytes of unknown fields listed as $unknownFields (what decoding read). */
export function unknownsFromJson(list: unknown): Uint8Array[] {
  if (!Array.isArray(list)) throw new Error(`${UNKNOWN_FIELDS_KEY} must be a list`)
  return list.map((item: UnknownFieldJson) => {
    const number = Number(item?.number)
    if (!Number.isInteger(number) || number < 1 || number > 536_870_911)
      throw new Error(`${UNKNOWN_FIELDS_KEY}: ${JSON.stringify(item?.number)} is not a field number`)
    const tag = (wire: number) => varint(BigInt(number) * 8n + BigInt(wire))
    switch (item.wireType) {
      case 'varint':
        return Buffer.concat([tag(0), varint(BigInt.asUintN(64, BigInt(String(item.value))))])
      case 'fixed64': {
        const b = Buffer.alloc(8)
        b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(String(item.value))))
        return Buffer.concat([tag(1), b])
      }
      case 'fixed32': {
        const b = Buffer.alloc(4)
        b.writeUInt32LE(Number(item.value) >>> 0)
        return Buffer.concat([tag(5), b])
      }
      case 'length-delimited': {
        const bytes = Buffer.from(String(item.value), 'base64')
        return Buffer.concat([tag(2), varint(BigInt(bytes.length)), bytes])
      }
      case 'group':
        return Buffer.concat([tag(3), Buffer.from(String(item.value), 'base64'), tag(4)])
      default:
        throw new Error(`${UNKNOWN_FIELDS_KEY}: wire type ${JSON.stringify(item?.wireType)} is not one of varint, fixed64, length-delimited, group, fixed32`)
    }
  })
}

function varint(value: bigint): Buffer {
  const out: number[] = []
  let v = value
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  out.push(Number(v))
  return Buffer.from(out)
}

/** A message from its canonical JSON (either field-name spelling; $unknownFields restored). Throws on a value the type cannot hold. */
export function messageFromJson(type: protobuf.Type, json: unknown): protobuf.Message {
  const message = protojson.fromJson(type, withoutUnknowns(type, json))
  restoreUnknowns(type, json, message)
  return message
}

function withoutUnknowns(type: protobuf.Type, json: unknown): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json) || typePlanOf(type).wkt || typePlanOf(type).any) return json
  const copy: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(json)) if (k !== UNKNOWN_FIELDS_KEY) copy[k] = v
  for (const plan of planOf(type)) {
    if (plan.kind !== 'message') continue
    for (const key of [plan.jsonName, plan.name]) {
      const v = copy[key]
      if (v === undefined || v === null) continue
      const inner = plan.resolved as protobuf.Type
      if (plan.map && typeof v === 'object') copy[key] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutUnknowns(inner, x)]))
      else if (plan.repeated && Array.isArray(v)) copy[key] = v.map((x) => withoutUnknowns(inner, x))
      else copy[key] = withoutUnknowns(inner, v)
    }
  }
  return copy
}

function restoreUnknowns(type: protobuf.Type, json: unknown, message: protobuf.Message | undefined): void {
  if (message === undefined || json === null || typeof json !== 'object' || Array.isArray(json) || typePlanOf(type).wkt || typePlanOf(type).any) return
  const j = json as Record<string, unknown>
  if (j[UNKNOWN_FIELDS_KEY] !== undefined) (message as { $unknowns?: Uint8Array[] }).$unknowns = unknownsFromJson(j[UNKNOWN_FIELDS_KEY])
  const m = message as unknown as Record<string, unknown>
  for (const plan of planOf(type)) {
    if (plan.kind !== 'message') continue
    const v = j[plan.jsonName] ?? j[plan.name]
    const target = m[plan.name]
    if (v === undefined || v === null || target === undefined || target === null) continue
    const inner = plan.resolved as protobuf.Type
    if (plan.map) for (const [k, x] of Object.entries(v as object)) restoreUnknowns(inner, x, (target as Record<string, protobuf.Message>)[k])
    else if (plan.repeated && Array.isArray(v)) v.forEach((x, i) => restoreUnknowns(inner, x, (target as protobuf.Message[])[i]))
    else restoreUnknowns(inner, v, target as protobuf.Message)
  }
}
