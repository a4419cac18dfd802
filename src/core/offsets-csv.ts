import { RecoveryError } from '../errors.js'

/** One line of a reset plan: Kafka's --from-file format, with or without the group column. */
export interface OffsetLine {
  group?: string
  topic: string
  partition: number
  offset: bigint
}

/**
 * Reads `topic,partition,offset` or `group,topic,partition,offset` lines, as written by
 * kafka-consumer-groups.sh --export and by recover's --export. Kafka topic and group names
 * in these files never need quoting, so a line is split on commas; blank lines, "#" comments
 * and a header line are skipped. Errors name the file and the line.
 */
export function parseOffsetsCsv(text: string, source: string): OffsetLine[] {
  const out: OffsetLine[] = []
  const lines = text.split(/\r?\n/)
  lines.forEach((raw, index) => {
    const line = raw.trim()
    const n = index + 1
    if (line === '' || line.startsWith('#')) return
    const cols = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'))
    if (out.length === 0 && /^(group|topic)$/i.test(cols[0] ?? '')) return
    const bad = (why: string): never => {
      throw new RecoveryError(
        'USAGE',
        `${source} line ${n}: ${why} (got "${line}"); each line must be topic,partition,offset or group,topic,partition,offset.`,
        { details: { file: source, line: n } },
      )
    }
    if (cols.length !== 3 && cols.length !== 4) bad(`expected 3 or 4 columns, found ${cols.length}`)
    const [group, topic, partition, offset] = cols.length === 4 ? cols : [undefined, ...cols]
    if (!topic) bad('the topic is empty')
    if (!/^\d+$/.test(partition!)) bad(`partition "${partition}" is not a number`)
    if (!/^\d+$/.test(offset!)) bad(`offset "${offset}" is not a non-negative number`)
    if (group !== undefined && group === '') bad('the group is empty')
    out.push({ ...(group !== undefined ? { group } : {}), topic: topic!, partition: Number(partition), offset: BigInt(offset!) })
  })
  if (out.length === 0) throw new RecoveryError('USAGE', `${source} has no offsets; each line must be topic,partition,offset or group,topic,partition,offset.`)
  const groups = new Set(out.map((l) => l.group !== undefined))
  if (groups.size > 1) throw new RecoveryError('USAGE', `${source} mixes lines with and without a group column; use one form for the whole file.`)
  return out
}

/** Kafka's format: no header, `topic,partition,offset` for one group, `group,topic,partition,offset` for several. */
export function formatOffsetsCsv(lines: OffsetLine[], withGroup: boolean): string {
  return `${lines.map((l) => (withGroup ? `${l.group},${l.topic},${l.partition},${l.offset}` : `${l.topic},${l.partition},${l.offset}`)).join('\n')}\n`
}
