/** One record as read from a partition, bytes untouched. Offsets are bigint inside. */
export interface KafkaRecord {
  topic: string
  partition: number
  offset: bigint
  timestampMs: number
  /** 'create' (producer time) or 'log-append' (broker time), from the batch attributes. */
  timestampType: 'create' | 'log-append'
  key: Buffer | null
  value: Buffer | null
  /** All headers in order, duplicates and nulls kept. */
  headers: Array<{ key: string; value: Buffer | null }>
}
