/**
 * The names of a replay's S3 objects: `PREFIX/TOPIC/p=PARTITION/FIRST-LAST.EXT`, the first and
 * last source offset in 20 digits, so that names sort as offsets do and the same records always
 * make the same name (a repeated or resumed replay overwrites, never duplicates).
 */

const OFFSET_DIGITS = 20

export function partitionPrefix(prefix: string, topic: string, partition: number): string {
  return `${prefix ? `${prefix}/` : ''}${topic}/p=${partition}/`
}

export function topicPrefix(prefix: string, topic: string): string {
  return `${prefix ? `${prefix}/` : ''}${topic}/`
}

export function objectName(prefix: string, topic: string, partition: number, first: bigint, last: bigint, extension: string): string {
  return `${partitionPrefix(prefix, topic, partition)}${pad(first)}-${pad(last)}.${extension}`
}

function pad(offset: bigint): string {
  return offset.toString().padStart(OFFSET_DIGITS, '0')
}

export interface ParsedObjectName {
  partition: number
  first: bigint
  last: bigint
  extension: string
}

const NAME = /(?:^|\/)p=(\d+)\/(\d{20})-(\d{20})\.([a-z]+)$/

/** The partition and offsets an object's name says it holds; undefined for any other object under the prefix. */
export function parseObjectName(key: string): ParsedObjectName | undefined {
  const m = NAME.exec(key)
  if (!m) return undefined
  return { partition: Number(m[1]), first: BigInt(m[2]!), last: BigInt(m[3]!), extension: m[4]! }
}
