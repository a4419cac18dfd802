import { RecoveryError } from '../errors.js'

/** A header as records carry it: order, repeated names and null values are meaningful. */
export interface Header {
  key: string
  value: Buffer | null
}

/** What --drop-header, --keep-header, --set-header and --no-provenance-headers ask of every written record. */
export interface HeaderRules {
  /** Globs (`*`, `?`): headers whose name matches any are removed. */
  drop: string[]
  /** Globs: when given, only headers whose name matches one are kept (after --drop-header). */
  keep: string[]
  /** Set after drop/keep: every header of that name is removed and one with this value is added at the end. */
  set: Array<{ key: string; value: Buffer }>
  /** Add `recover.replayed-from` (the record's source position); sinks without headers ignore it. */
  provenance: boolean
}

/** The header a replay adds to say where a record was read: `TOPIC/PARTITION@OFFSET` ('/' cannot be in a topic name). */
export const REPLAYED_FROM_HEADER = 'recover.replayed-from'

export function replayedFrom(source: { topic: string; partition: number; offset: bigint }): string {
  return `${source.topic}/${source.partition}@${source.offset}`
}

/** Rules that leave every record's headers exactly as they are. */
export function noHeaderRules(rules: HeaderRules | undefined): boolean {
  return rules === undefined || (rules.drop.length === 0 && rules.keep.length === 0 && rules.set.length === 0 && !rules.provenance)
}

/** Parses the flags' values; a --set-header without `=` or with an empty name is refused (BAD_HEADER_RULE). */
export function parseHeaderRules(flags: { drop?: string[]; keep?: string[]; set?: string[]; provenance: boolean }): HeaderRules {
  const set = (flags.set ?? []).map((text) => {
    const eq = text.indexOf('=')
    if (eq <= 0) {
      throw new RecoveryError('BAD_HEADER_RULE', `--set-header ${text}: write NAME=VALUE (e.g. --set-header app-version=1.6.1; NAME= sets an empty value).`, {
        details: { flag: '--set-header', value: text },
      })
    }
    return { key: text.slice(0, eq), value: Buffer.from(text.slice(eq + 1), 'utf8') }
  })
  for (const [flag, globs] of [
    ['--drop-header', flags.drop ?? []],
    ['--keep-header', flags.keep ?? []],
  ] as const) {
    const empty = globs.find((g) => g === '')
    if (empty !== undefined)
      throw new RecoveryError('BAD_HEADER_RULE', `${flag} needs a header name or a glob such as 'x-debug-*'.`, { details: { flag, value: empty } })
  }
  return { drop: flags.drop ?? [], keep: flags.keep ?? [], set, provenance: flags.provenance }
}

/**
 * A glob over header names: `*` any run of characters, `?` one, everything else literal and
 * case-sensitive (Kafka header names are). Path globs (picomatch) would treat `/` and leading
 * dots specially, which header names do not have.
 */
export function headerGlob(glob: string): (name: string) => boolean {
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[\\s\\S]*')
    .replace(/\?/g, '[\\s\\S]')
  const re = new RegExp(`^${source}$`)
  return (name) => re.test(name)
}

/** The rules compiled once for a replay: `apply` gives a record's new header list (never the input array). */
export function compileHeaderRules(rules: HeaderRules): (headers: readonly Header[], source: { topic: string; partition: number; offset: bigint }) => Header[] {
  const drop = rules.drop.map(headerGlob)
  const keep = rules.keep.map(headerGlob)
  // The last --set-header of a name wins; names keep the order they were first given in.
  const sets = new Map<string, Buffer>()
  for (const s of rules.set) sets.set(s.key, s.value)
  const setNames = new Set(sets.keys())
  if (rules.provenance) setNames.add(REPLAYED_FROM_HEADER)
  return (headers, source) => {
    const out: Header[] = []
    for (const h of headers) {
      if (drop.some((m) => m(h.key))) continue
      if (keep.length > 0 && !keep.some((m) => m(h.key))) continue
      // Replaced below: one header of each set name, at the end.
      if (setNames.has(h.key)) continue
      out.push(h)
    }
    for (const [key, value] of sets) out.push({ key, value })
    if (rules.provenance && !sets.has(REPLAYED_FROM_HEADER)) out.push({ key: REPLAYED_FROM_HEADER, value: Buffer.from(replayedFrom(source)) })
    return out
  }
}
