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
  headers?: readonly RecordHeader[] | Readonly<Record<string, HeaderValue | HeaderValue[]>> | null
}

/** A header as the encoder writes it. */
export interface HeaderEntry {
  key: string
  value: HeaderValue
}

/** kafkajs's header object: one value per name, or an array of them for a repeated name. */
export type HeaderObject = Readonly<Record<string, HeaderValue | HeaderValue[]>>

/**
 * A message's headers as a list in wire order when they are one: recover's ordered list
 * itself, or the list attached to a header object by headersForMessage. Undefined for a
 * plain header object, which the encoder reads in place: its names in order, a repeated
 * name's values together, as kafkajs writes them.
 */
export function orderedHeaderList(headers: NonNullable<ProduceMessage['headers']>): readonly HeaderEntry[] | undefined {
  if (Array.isArray(headers)) return headers as readonly RecordHeader[]
  return (headers as { [ORDERED_HEADERS]?: readonly RecordHeader[] })[ORDERED_HEADERS]
}
