import type { RangeBound } from './replay-range.js'

/**
 * The window an audit read, as a person asked for it, resolved: a time as its UTC instant (so
 * `--from -1d` of a nightly run reads as the night it covered), offsets as written, and the
 * log ends by name. The exact offsets per partition are in the result's `partitions`.
 */
export interface AuditWindow {
  from: string
  to: string
}

export function auditWindow(from: RangeBound | undefined, to: RangeBound | undefined): AuditWindow {
  return { from: describeBound(from ?? { kind: 'earliest' }), to: describeBound(to ?? { kind: 'latest' }) }
}

function describeBound(bound: RangeBound): string {
  if (bound.kind === 'earliest' || bound.kind === 'latest') return bound.kind
  if (bound.kind === 'time') return new Date(bound.instantMs).toISOString()
  if (bound.kind === 'match') return `${bound.edge}-match:${bound.where}`
  const perPartition = [...bound.perPartition].sort(([a], [b]) => a - b).map(([p, o]) => `${p}=${o}`)
  if (bound.all !== undefined) return `offset:${bound.all}${perPartition.length > 0 ? `,${perPartition.join(',')}` : ''}`
  return `offset:${perPartition.join(',')}`
}
