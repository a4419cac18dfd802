import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { AnyLocation } from '../../src/core/location.js'
import { RecoveryError } from '../../src/errors.js'
import { parseEnvelopeLine } from '../../src/files/envelope.js'
import { replay } from '../../src/services/replay.js'
import { replayGroup } from '../../src/services/replay-group.js'
import { parseSinkLocation, registerSink } from '../../src/sinks/registry.js'
import type { Sink, SinkOpenResult, SinkRecord, SinkRejection, SinkState } from '../../src/sinks/sink.js'
import { createTopic, produce, uniqueName, withGateway } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

/*
 * A new kind of sink, added in this one file: its class, and its registry entry (scheme, how
 * its location parses, what it can do, how it is created). Nothing in src/ knows it, and the
 * replay writes into it as into any other sink.
 */

/** What each memory sink holds, by name: what a test reads back. */
const stores = new Map<string, Array<{ partition: number; offset: bigint; value: unknown }>>()

interface MemoryLocation extends AnyLocation {
  kind: 'memory'
  name: string
}

/** Keeps records in `stores`; refuses values with `"refuse": true` (they go to the quarantine, stage sink). */
class MemorySink implements Sink {
  readonly mayDuplicateOnResume = true
  constructor(private readonly name: string) {}

  get uri(): string {
    return `memory:${this.name}`
  }

  async open(_resume: SinkState | undefined): Promise<SinkOpenResult> {
    if (!stores.has(this.name)) stores.set(this.name, [])
    return { resent: 0 }
  }

  async write(records: SinkRecord[]): Promise<SinkRejection[]> {
    const rejected: SinkRejection[] = []
    records.forEach((r, index) => {
      if ((r.decodedValue as { refuse?: boolean }).refuse) rejected.push({ index, error: new Error('the memory sink refuses this one') })
      else stores.get(this.name)!.push({ partition: r.source.partition, offset: r.source.offset, value: r.decodedValue })
    })
    return rejected
  }

  async checkpoint(): Promise<SinkState> {
    return { held: stores.get(this.name)!.length }
  }

  async close(): Promise<void> {}
}

registerSink<MemoryLocation>({
  name: 'memory',
  scheme: 'memory',
  form: 'memory:NAME',
  parse: (text) => ({ kind: 'memory', name: text.slice('memory:'.length), display: text }),
  capabilities: { transactional: 'never', exactlyOnce: 'never', shareable: false, keyedUpsert: false, truncatedOnResume: false, runsPluginCode: false },
  create: async (location) => new MemorySink(location.name),
})

const dir = mkdtempSync(join(tmpdir(), 'recover-registered-sink-'))

test(
  'a sink added in one test file, never named by the service: replay writes into it, its refusals are quarantined, counts reconcile',
  withTimeout(60_000, async () => {
    const topic = uniqueName('registered-sink')
    await createTopic(topic, 2)
    await produce(
      topic,
      Array.from({ length: 40 }, (_, i) => ({
        partition: i % 2,
        key: `k${i}`,
        value: JSON.stringify({ n: i, refuse: i % 10 === 7 }),
        timestampMs: 1_700_000_000_000 + i,
      })),
    )
    const quarantine = join(dir, `${uniqueName('q')}.jsonl`)
    const summary = await withGateway((gateway) =>
      replay(
        { topic, valueFormat: 'json', sink: 'memory:first', quarantine: `file:${quarantine}`, checkpoint: join(dir, `${uniqueName('cp')}.json`), batchSize: 7 },
        { gateway },
      ),
    )
    assert.is(summary.sink, 'memory:first')
    assert.equal(summary.totals.read, 40)
    assert.equal([summary.totals.written, summary.totals.quarantined], [36, 4])
    assert.equal(summary.quarantinedByStage, { decode: 0, transform: 0, sink: 4 })
    assert.ok(summary.partitions.every((p) => p.read === p.written + p.dropped + p.quarantined))
    assert.is(summary.duplicatesPossible, true, 'what the sink says of itself reaches the summary')
    const held = stores.get('first')!
    assert.equal(
      held.map((r) => (r.value as { n: number }).n).sort((a, b) => a - b),
      Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 10 !== 7),
    )
    for (const p of [0, 1]) {
      const offsets = held.filter((r) => r.partition === p).map((r) => r.offset)
      assert.equal(
        offsets,
        [...offsets].sort((a, b) => Number(a - b)),
        `partition ${p} in order`,
      )
    }
    const dead = readFileSync(quarantine, 'utf8').trim().split('\n').map(parseEnvelopeLine)
    assert.equal(
      dead.map((e) => JSON.parse(e.value!.toString()).n).sort((a: number, b: number) => a - b),
      [7, 17, 27, 37],
    )

    // The same sink given as a parsed location, as the --sink flag hands it over.
    const again = await withGateway((gateway) =>
      replay(
        {
          topic,
          valueFormat: 'json',
          sink: parseSinkLocation('memory:second'),
          quarantine: `file:${join(dir, `${uniqueName('q')}.jsonl`)}`,
          checkpoint: join(dir, `${uniqueName('cp')}.json`),
        },
        { gateway },
      ),
    )
    assert.equal([again.sink, again.totals.written, stores.get('second')!.length], ['memory:second', 36, 36])
  }),
)

test(
  'its declared capabilities are what the replay goes by: no --exactly-once, no --scale-out, refused before anything is read or joined',
  withTimeout(30_000, async () => {
    const topic = uniqueName('registered-sink-refused')
    const refusal = async (run: () => Promise<unknown>): Promise<RecoveryError> => {
      try {
        await run()
      } catch (error) {
        assert.instance(error, RecoveryError)
        return error as RecoveryError
      }
      throw new Error('not refused')
    }
    const once = await refusal(() => withGateway((gateway) => replay({ topic, sink: 'memory:x', exactlyOnce: true }, { gateway })))
    assert.is(once.code, 'USAGE')
    assert.match(once.message, 'memory:x cannot: leave out --exactly-once')
    const shared = await refusal(() => withGateway((gateway) => replayGroup({ topic, scaleOut: uniqueName('g'), sink: 'memory:x' }, { gateway })))
    assert.is(shared.code, 'USAGE')
    assert.match(shared.message, '--scale-out needs a sink that several processes can write at once (kafka:TOPIC or postgres://')
    assert.match(shared.message, 'memory:x is not one')
    assert.is(stores.has('x'), false, 'nothing was opened')
  }),
)

test.run()
