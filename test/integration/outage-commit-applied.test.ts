import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { AnyLocation } from '../../src/core/location.js'
import { RecoveryError } from '../../src/errors.js'
import { replay } from '../../src/services/replay.js'
import type { CommittedProgress, ReplayIdentity, Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from '../../src/sinks/sink.js'
import { createTopic, produce, uniqueName, withGateway } from '../support/kafka.js'
import { registerSinkWhileRunning } from '../support/test-sink.js'
import { withTimeout } from '../support/timeout.js'

/*
 * A transactional sink whose commit is applied while its answer is lost (Kafka's EndTxn decided
 * by the coordinator that then dies, a database COMMIT whose reply never arrives): the replay
 * sees an outage, waits, reopens the sink, and must continue from the progress the sink
 * committed, not from its checkpoint file, which is a commit behind; else the batch is written
 * twice. The ledger sink below keeps what is committed, by run, in memory.
 */

interface Ledger {
  committed: number[]
  progress: CommittedProgress | undefined
  /** Which commit applies and then fails as if its answer were lost (1-based). */
  loseAnswerOf: number
  commits: number
}
const ledgers = new Map<string, Ledger>()

interface LedgerLocation extends AnyLocation {
  kind: 'ledger'
  name: string
}

class LedgerSink implements Sink {
  readonly mayDuplicateOnResume = false
  readonly transactional = true
  private staged: number[] = []
  constructor(private readonly name: string) {}

  get uri(): string {
    return `ledger:${this.name}`
  }

  private get ledger(): Ledger {
    return ledgers.get(this.name)!
  }

  async open(_resume: SinkState | undefined, _replay: ReplayIdentity): Promise<SinkOpenResult> {
    this.staged = []
    return { resent: 0, committed: this.ledger.progress }
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    for (const r of records) this.staged.push((r.decodedValue as { n: number }).n)
    return []
  }

  async checkpoint(progress?: CommittedProgress): Promise<SinkState> {
    if (!progress) return {}
    const ledger = this.ledger
    ledger.committed.push(...this.staged)
    ledger.progress = progress
    this.staged = []
    if (++ledger.commits === ledger.loseAnswerOf)
      throw new RecoveryError('SINK_FAILED', 'Committing a transaction failed: the answer was lost (the coordinator went away).', { retriable: true })
    return {}
  }

  async close(): Promise<void> {
    this.staged = []
  }
}

registerSinkWhileRunning<LedgerLocation>(test, {
  name: 'ledger',
  scheme: 'ledger',
  form: 'ledger:NAME',
  parse: (text) => ({ kind: 'ledger', name: text.slice('ledger:'.length), display: text }),
  capabilities: { transactional: 'always', exactlyOnce: 'always', shareable: false, keyedUpsert: false, truncatedOnResume: false, runsPluginCode: false },
  create: async (location) => new LedgerSink(location.name),
})

test(
  'a transactional commit applied although its answer was lost (an outage): the replay waits, reopens, continues from the progress the sink committed: every record once',
  withTimeout(60_000, async () => {
    const topic = uniqueName('commit-applied')
    await createTopic(topic, 2)
    const N = 60
    await produce(
      topic,
      Array.from({ length: N }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: JSON.stringify({ n: i }), timestampMs: 1_700_000_000_000 + i })),
    )
    const name = uniqueName('ledger')
    ledgers.set(name, { committed: [], progress: undefined, loseAnswerOf: 3, commits: 0 })
    const dir = mkdtempSync(join(tmpdir(), 'recover-commit-applied-'))
    const events: string[] = []
    const summary = await withGateway((gateway) =>
      replay(
        {
          topic,
          valueFormat: 'json',
          sink: `ledger:${name}`,
          quarantine: `file:${join(dir, 'q.jsonl')}`,
          checkpoint: join(dir, 'cp.json'),
          batchSize: 10,
          commitIntervalMs: 0,
          brokerWaitMs: 30_000,
        },
        { gateway, onEvent: (e) => events.push(e.type) },
      ),
    )
    const ledger = ledgers.get(name)!
    assert.ok(ledger.commits > ledger.loseAnswerOf, 'the replay went on after the lost answer')
    assert.ok(events.includes('waiting'), `the lost answer was waited out as an outage: ${events.join(' ')}`)
    assert.equal(
      [...ledger.committed].sort((a, b) => a - b),
      Array.from({ length: N }, (_, i) => i),
      'every record committed exactly once',
    )
    assert.is(summary.totals.read, N)
    assert.is(summary.totals.written, N)
    assert.ok(summary.partitions.every((p) => p.read === p.written + p.dropped + p.quarantined))
  }),
)

test.run()
