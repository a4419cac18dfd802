import { renderScanEvent } from '../../render/audit.js'
import type { ScanEvent } from '../../services/audit-scan.js'
import type { Presenter, ProgressRecord } from '../reporter.js'

/** `audit compare` reads the sink before it scans the topic. */
export type AuditEvent = ScanEvent | { type: 'sink-loaded'; sink: string; rows: number; elapsedMs: number }

/**
 * `audit duplicates` and `audit compare`: the scan already reports at most once a second, so
 * each event is a line (or a record) of its own; there is no state to keep.
 */
export const auditScanPresenter: Presenter<AuditEvent, undefined> = {
  initial: () => undefined,
  reduce: () => undefined,
  lines(event) {
    if (event.type === 'sink-loaded') return [`Read ${event.rows} rows from ${event.sink} in ${(event.elapsedMs / 1000).toFixed(1)} s.`]
    const line = renderScanEvent(event)
    return line === undefined ? [] : [line]
  },
  record(event): ProgressRecord {
    switch (event.type) {
      case 'scan-start':
        return {
          type: event.type,
          topic: event.topic,
          records: event.records,
          partitions: event.partitions.map((p) => ({ partition: p.partition, start: p.start, end: p.end })),
        }
      case 'scan-progress':
      case 'scan-done':
        return { type: event.type, topic: event.topic, records: event.records, bytes: event.bytes, elapsedMs: event.elapsedMs }
      case 'analyse':
        return { type: event.type, what: event.what }
      case 'sink-loaded':
        return { type: event.type, sink: event.sink, rows: event.rows, elapsedMs: event.elapsedMs }
    }
  },
}
