import { readDuration } from './duration.js'
import { parseTimeSpec } from './time-spec.js'

/**
 * A --since value as an instant: a bare duration (2h, PT30M) means that long ago, as people say
 * "since 2h"; anything else is a time spec (-2h, an ISO time, epoch ms).
 * @throws RecoveryError BAD_TIME_SPEC
 */
export function sinceInstant(text: string, options: { tz?: string; now?: number } = {}): number {
  const duration = readDuration(text.trim())
  const now = options.now ?? Date.now()
  if (duration.ok && duration.sign === '') return now - duration.ms
  return parseTimeSpec(text, { tz: options.tz, now }).instantMs
}
