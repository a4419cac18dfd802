import { formatDuration } from './duration.js'

/**
 * The time before which a topic's broker deletes records (retention.ms counted back from
 * now), when records keep the timestamp their producer gave them (CreateTime); undefined when
 * the topic keeps records of any age, is compacted only, or stamps them itself (LogAppendTime).
 */
export function retentionCutoff(configs: ReadonlyMap<string, string>, nowMs: number): { cutoffMs: number; retentionMs: number } | undefined {
  const retentionMs = Number(configs.get('retention.ms') ?? '-1')
  const policy = configs.get('cleanup.policy') ?? 'delete'
  const stamping = configs.get('message.timestamp.type') ?? 'CreateTime'
  if (!Number.isFinite(retentionMs) || retentionMs < 0 || !policy.includes('delete') || stamping !== 'CreateTime') return undefined
  return { cutoffMs: nowMs - retentionMs, retentionMs }
}

/** What to tell someone replaying records older than the sink topic keeps. */
export function retentionWarning(topic: string, retentionMs: number): string {
  return `Warning: records older than ${topic}'s retention (retention.ms ${retentionMs}, ${formatDuration(retentionMs)}) are being written with their original timestamps; Kafka will delete them at its next retention check (every few minutes). Raise retention.ms on ${topic}, or replay with --new-timestamps.`
}
