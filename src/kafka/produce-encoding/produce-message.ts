import { ORDERED_HEADERS, type RecordHeader } from '../ordered-headers.js'

/** A header value as kafkajs accepts it in a message's header object. */
export type HeaderValue = Buffer | string | null | undefined

/**
 * One record as it reaches the Produce request: a kafkajs message. Keys and values that are
 * Buffers are copied once, into the request; strings are written as UTF-8. Headers are either
 * recover's ordered list (order, repeats and null values kept) or kafkajs's object (a repeated
 * key as an array of values).
 */
export interface ProduceMessage {
  key?: Buffer | string | null
  value?: Buffer | string | null
  /** Epoch milliseconds (CreateTime); null or absent: the time of encoding. */
  timestamp?: number | string | null
  headers?: readonly RecordHeader[] | Readonly<Record<string, HeaderValue | HeaderValue[]>>
}

/** A header as the encoder writes it. */
export interface HeaderEntry {
  key: string
  value: HeaderValue
}

/**
 * A message's headers as a list in wire order: the ordered list itself when it is one (or is
 * attached to the object, see headersForMessage), else the object's keys in order, a repeated
 * key's values together, as kafkajs writes them.
 */
export function headerEntries(headers: ProduceMessage['headers']): readonly HeaderEntry[] {
  if (headers === undefined || headers === null) return NO_HEADERS
  if (Array.isArray(headers)) return headers as readonly RecordHeader[]
  const ordered = (headers as { [ORDERED_HEADERS]?: readonly RecordHeader[] })[ORDERED_HEADERS]
  if (ordered) return ordered
  const object = headers as Readonly<Record<string, HeaderValue | HeaderValue[]>>
  const list: HeaderEntry[] = []
  for (const key of Object.keys(object)) {
    const value = object[key]
    if (Array.isArray(value)) for (const v of value) list.push({ key, value: v })
    else list.push({ key, value })
  }
  return list
}

const NO_HEADERS: readonly HeaderEntry[] = Object.freeze([])
