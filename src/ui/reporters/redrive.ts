import type { RedriveProgress } from '../../services/quarantine-redrive.js'
import type { Presenter } from '../reporter.js'

/** `quarantine redrive --execute`: how far it got, after every batch; printed at most once a second. */
export const redrivePresenter: Presenter<RedriveProgress, RedriveProgress> = {
  initial: () => ({ redriven: 0, parked: 0, refused: 0 }),
  reduce: (_state, progress) => progress,
  lines: () => [],
  record: () => undefined,
  progress: {
    moves: () => true,
    line: (p) => `Redriven ${p.redriven}, parked ${p.parked}, refused ${p.refused} so far…`,
    record: (p) => ({ type: 'redrive-progress', redriven: p.redriven, parked: p.parked, refused: p.refused }),
  },
}
