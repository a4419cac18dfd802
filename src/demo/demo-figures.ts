import type { IncidentTruth } from '../fixtures/incident-truth.js'
import type { DemoStepRun } from './run-demo.js'

/** The numbers the demo ends with: what the commands reported, next to what was seeded. */
export interface DemoFigures {
  /** Records the group had left to read before the rewind (0: it had processed everything). */
  lagBefore: number | null
  /** Records the rewind makes the group read again. */
  rewound: number | null
  /** The replay of the window. */
  replayed: { read: number; written: number; dropped: number; quarantined: number } | null
  /** What the sink holds after the replay, read back by `audit compare` (only when the demo runs that step: --opensearch, --s3). */
  sink: { rows: number; keys: number; missing: number } | null
  /** --json-schema: the replay of the JSON orders, and the dead letter of the one that broke the schema (its reason names the path and the rule). */
  jsonSchema: { read: number; written: number; quarantined: number; kind: string | null; message: string | null } | null
  /** The duplicate audit of the window. */
  duplicates: { keys: number; identical: number; changed: number; undecodable: number } | null
  /** What the fixture put in the window, to check the figures against. */
  seeded: { recordsInWindow: number; badDeployRecords: number; poisonPills: number; duplicates: number }
}

/** The parts of the steps' JSON results the figures read (numbers may be decimal strings: offsets are bigint). */
interface StepResults {
  totals?: {
    lag?: unknown
    read?: unknown
    written?: unknown
    dropped?: unknown
    quarantined?: unknown
    duplicateKeys?: unknown
    identical?: unknown
    changed?: unknown
    undecodable?: unknown
    sinkRows?: unknown
    sinkKeys?: unknown
    missing?: unknown
  }
  plan?: { totals?: { replayed?: unknown } }
  /** quarantine show */
  kind?: unknown
  message?: unknown
}

export function demoFigures(runs: DemoStepRun[], truth: IncidentTruth): DemoFigures {
  const result = (id: string): StepResults | undefined => runs.find((r) => r.id === id)?.result as StepResults | undefined
  const num = (value: unknown): number | null => (value === undefined || value === null ? null : Number(value))
  const describe = result('groups-describe')
  const seek = result('seek-execute') ?? result('seek-dry-run')
  const replay = result('replay')
  const audit = result('audit-duplicates')
  const compare = result('audit-compare')
  const jsonReplay = result('json-schema-replay')
  const jsonLetter = result('json-schema-quarantine-show')
  return {
    lagBefore: num(describe?.totals?.lag),
    rewound: num(seek?.plan?.totals?.replayed),
    replayed: replay?.totals
      ? {
          read: Number(replay.totals.read),
          written: Number(replay.totals.written),
          dropped: Number(replay.totals.dropped),
          quarantined: Number(replay.totals.quarantined),
        }
      : null,
    sink: compare?.totals ? { rows: Number(compare.totals.sinkRows), keys: Number(compare.totals.sinkKeys), missing: Number(compare.totals.missing) } : null,
    jsonSchema: jsonReplay?.totals
      ? {
          read: Number(jsonReplay.totals.read),
          written: Number(jsonReplay.totals.written),
          quarantined: Number(jsonReplay.totals.quarantined),
          kind: typeof jsonLetter?.kind === 'string' ? jsonLetter.kind : null,
          message: typeof jsonLetter?.message === 'string' ? jsonLetter.message : null,
        }
      : null,
    duplicates: audit?.totals
      ? {
          keys: Number(audit.totals.duplicateKeys),
          identical: Number(audit.totals.identical),
          changed: Number(audit.totals.changed),
          undecodable: Number(audit.totals.undecodable),
        }
      : null,
    seeded: {
      recordsInWindow: truth.badDeploy.records,
      badDeployRecords: truth.badDeploy.badDeployRecords,
      poisonPills: truth.badDeploy.poisonPills,
      duplicates: truth.badDeploy.duplicates,
    },
  }
}
