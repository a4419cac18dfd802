import type { QuarantineSummary } from './quarantined-record.js'

/** Which dead letters an action is about; every given criterion must match. */
export interface QuarantineFilter {
  /** Substring of the error class, case-insensitive (`JsonParse` matches `…JsonParseException`). */
  error?: string
  /** The stage, case-insensitive: decode, transform, sink, VALUE_CONVERTER, TASK_PUT, … */
  stage?: string
  /** Failed at or after (epoch ms). */
  sinceMs?: number
  /** Failed before (epoch ms). */
  untilMs?: number
  /** The key, exactly, as text. */
  key?: string
  /** The original topic, exactly. */
  topic?: string
  /** Positions (`partition@offset`) in the quarantine. */
  ids?: readonly string[]
  /** Free text across error class, message, key, original topic, stage, the original position (`orders-2@1750`) and the quarantine position (`0@3`) (the TUI's `/`). */
  text?: string
}

export function isEmptyFilter(f: QuarantineFilter): boolean {
  return Object.values(f).every((v) => v === undefined || (Array.isArray(v) && v.length === 0))
}

/** A predicate over summaries (full records are summaries and more). */
export function matcher(
  f: QuarantineFilter,
): (s: Pick<QuarantineSummary, 'id' | 'errorClass' | 'stage' | 'failedAtMs' | 'key' | 'original' | 'message'>) => boolean {
  const error = f.error?.toLowerCase()
  const stage = f.stage?.toLowerCase()
  const ids = f.ids && f.ids.length > 0 ? new Set(f.ids) : undefined
  const text = f.text?.toLowerCase()
  // A position (orders-2@1750, or 0@3 in the quarantine) means that record, not every offset starting with those digits.
  const exactPosition = text !== undefined && /^(?:.+-)?\d+@\d+$/.test(text)
  return (s) => {
    if (ids && !ids.has(s.id)) return false
    if (error !== undefined && !s.errorClass.toLowerCase().includes(error)) return false
    if (stage !== undefined && s.stage.toLowerCase() !== stage) return false
    if (f.sinceMs !== undefined && s.failedAtMs < f.sinceMs) return false
    if (f.untilMs !== undefined && s.failedAtMs >= f.untilMs) return false
    if (f.key !== undefined && s.key !== f.key) return false
    if (f.topic !== undefined && s.original.topic !== f.topic) return false
    if (text !== undefined && text !== '') {
      if (exactPosition) return positionOf(s.original)?.toLowerCase() === text || s.id === text
      const hay = `${s.errorClass}\n${s.message}\n${s.key ?? ''}\n${positionOf(s.original) ?? ''}\n${s.stage}\n${s.id}`.toLowerCase()
      if (!hay.includes(text)) return false
    }
    return true
  }
}

/** `orders-2@1750`: the original record's topic, partition and offset, as the TUI shows it. */
function positionOf(original: Pick<QuarantineSummary['original'], 'topic' | 'partition' | 'offset'>): string | undefined {
  return original.topic === undefined ? undefined : `${original.topic}-${original.partition ?? '?'}@${original.offset ?? '?'}`
}
