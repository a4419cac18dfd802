import { Flags } from './oclif.js'
import { quarantineLocationFlag } from './location-flags.js'
import { parseTimeSpec } from '../core/time-spec.js'
import type { QuarantineFilter } from '../quarantine/quarantine-filter.js'

/**
 * Where the dead letters are, for every quarantine command. Formerly --from, which in replay and
 * audit is the start of a range: the old name still works for one release, with a warning.
 */
export const dlqFlag = {
  dlq: quarantineLocationFlag({
    summary:
      "The dead letters: kafka:TOPIC (recover's, Kafka Connect's, Streams', Spring's or Karafka's dead-letter topic) or file:PATH.jsonl. Formerly --from.",
    required: true,
    aliases: ['from'],
  }),
}

/** The selection every quarantine command shares. */
export const filterFlags = {
  error: Flags.string({ summary: 'Only records whose error class contains this (case-insensitive), e.g. DataException.', helpGroup: 'FILTER' }),
  stage: Flags.string({ summary: 'Only this stage: decode, transform, sink (recover), VALUE_CONVERTER, TASK_PUT, … (Connect).', helpGroup: 'FILTER' }),
  since: Flags.string({ summary: 'Only records that failed at or after this time (ISO-8601, epoch ms, -2h).', helpGroup: 'FILTER' }),
  until: Flags.string({ summary: 'Only records that failed before this time.', helpGroup: 'FILTER' }),
  key: Flags.string({ summary: 'Only records with exactly this key (as text).', helpGroup: 'FILTER' }),
  topic: Flags.string({ char: 't', summary: 'Only records from this original topic.', helpGroup: 'FILTER' }),
  id: Flags.string({
    summary: 'Only these positions in the quarantine, partition@offset as list --records prints them (repeatable, or comma-separated).',
    multiple: true,
    helpGroup: 'FILTER',
  }),
  tz: Flags.string({ summary: 'Zone for --since/--until without one: an IANA zone, UTC, or local.', helpGroup: 'FILTER' }),
}

/** Actions also accept --all: a filter is otherwise required, so nothing acts on everything by accident. */
export const allFlag = {
  all: Flags.boolean({ summary: 'Act on every record of the quarantine (no filter).', helpGroup: 'FILTER' }),
}

export interface FilterFlagValues {
  error?: string
  stage?: string
  since?: string
  until?: string
  key?: string
  topic?: string
  id?: string[]
  tz?: string
}

export function toFilter(flags: FilterFlagValues): QuarantineFilter {
  const filter: QuarantineFilter = {}
  if (flags.error !== undefined) filter.error = flags.error
  if (flags.stage !== undefined) filter.stage = flags.stage
  if (flags.since !== undefined) filter.sinceMs = parseTimeSpec(flags.since, { tz: flags.tz }).instantMs
  if (flags.until !== undefined) filter.untilMs = parseTimeSpec(flags.until, { tz: flags.tz }).instantMs
  if (flags.key !== undefined) filter.key = flags.key
  if (flags.topic !== undefined) filter.topic = flags.topic
  if (flags.id && flags.id.length > 0)
    filter.ids = flags.id
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '')
  return filter
}

export { currentActor } from '../config/actor.js'
