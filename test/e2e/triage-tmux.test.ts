import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { headersForMessage, installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'
import { readAuditTrail } from '../../src/quarantine/audit-trail.js'
import { quarantineHeaders } from '../../src/quarantine/quarantine.js'
import { RangeReader } from '../../src/kafka/range-reader.js'
import { createTopic, testBrokers, testKafka, uniqueName, withGateway } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { waitFor, withTimeout } from '../support/timeout.js'

installOrderedHeaders()

// Recent timestamps: the test broker's default retention (7 days) deletes older records, and dead letters keep their original timestamp.
const T = Date.now() - 3_600_000
const session = uniqueName('recover-triage')
// A tmux server of our own (its own socket, no user config): a server already running on the
// machine would start the pane with that server's environment and options instead of ours.
const work = mkdtempSync(join(tmpdir(), 'recover-tmux-'))
const socket = join(work, 'socket')
/** The shell in the pane writes triage's exit status here (tmux's own pane status can lag). */
const exitFile = join(work, 'exit-status')
const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
const screen = () => tmux('capture-pane', '-p', '-t', session)
const keys = (...k: string[]) => tmux('send-keys', '-t', session, ...k)
/** What the pane's process is doing, for a failure message: alive or its exit status. */
const paneState = () => {
  try {
    return tmux('list-panes', '-t', session, '-F', 'pane pid #{pane_pid}, dead #{pane_dead}, exit status #{pane_dead_status}').trim()
  } catch (error) {
    return `no pane: ${(error as Error).message}`
  }
}
const shows = (text: string, timeoutMs = 30_000) =>
  waitFor(`the screen to show "${text}"`, () => (screen().includes(text) ? true : undefined), timeoutMs, 100).catch((error: Error) => {
    throw new Error(`${error.message}\n--- ${paneState()} ---\n--- screen ---\n${screen()}`)
  })

async function readTopic(name: string): Promise<KafkaRecord[]> {
  return withGateway(async (gateway) => {
    const reader = new RangeReader(gateway.kafka, gateway.settings, name)
    try {
      const facts = await reader.partitionFacts(await gateway.partitionsOf(name))
      const out: KafkaRecord[] = []
      for await (const chunks of reader.read(facts.map((f) => ({ partition: f.partition, start: f.logStart, end: f.stableEnd }))))
        for (const c of chunks) out.push(...c.records)
      return out
    } finally {
      await reader.close()
    }
  })
}

test.after(() => {
  try {
    tmux('kill-server')
  } catch {
    // Already gone: triage quit with q, and the server with its last session.
  }
})

test(
  'recover triage in a real terminal (tmux): filter, drop with a reason, redrive with confirmation, quit; Kafka and the audit trail agree',
  withTimeout(120_000, async () => {
    const original = uniqueName('orders')
    const q = `${original}.quarantine`
    await createTopic(original, 2)
    await createTopic(q, 1)
    const letters = [1, 2, 3, 4, 5].map((offset) => {
      const record: KafkaRecord = {
        topic: original,
        partition: offset % 2,
        offset: BigInt(offset),
        timestampMs: T + offset,
        timestampType: 'create',
        key: Buffer.from(`ord-${offset}`),
        value: Buffer.from(`{bad ${offset}`),
        headers: [{ key: 'trace', value: Buffer.from(`t${offset}`) }],
      }
      const name = offset <= 3 ? 'DecodeError' : 'TypeError'
      return {
        partition: 0,
        key: record.key,
        value: record.value,
        timestamp: String(record.timestampMs),
        headers: headersForMessage(
          quarantineHeaders(
            { record, stage: offset <= 3 ? 'decode' : 'transform', error: Object.assign(new Error(`${name} at ${offset}`), { name }) },
            new Date(T + offset),
          ),
        ) as Record<string, Buffer>,
      }
    })
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    await producer.send({ topic: q, acks: -1, messages: letters })
    await producer.disconnect()

    const bin = join(repoRoot(), 'bin', 'run.js')
    // CI=true as in a CI job's shell: Ink then draws only at exit, and triage must draw every frame regardless.
    tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '150',
      '-y',
      '40',
      `CI=true ${process.execPath} ${bin} triage --dlq kafka:${q} --brokers ${testBrokers()} --same-partition; echo $? > ${exitFile}`,
    )
    // Keep the pane after its process ends, so that a crash leaves its message on the screen.
    tmux('set-option', '-t', session, 'remain-on-exit', 'on')
    // The first screen waits for a cold start of the CLI and its first Kafka connection.
    await shows('5 of 5 records', 60_000)
    assert.match(screen(), '3 DecodeError · decode')

    keys('/')
    await shows('(enter: apply, esc: cancel)')
    keys('-l', 'TypeError')
    await shows('/TypeError')
    keys('Enter')
    await shows('2 of 5 records matching "TypeError"')
    assert.not.match(screen(), 'DecodeError · decode')

    keys('d')
    await shows('Drop 2 records: all of TypeError · transform. Reason:')
    keys('-l', 'known transform bug')
    await shows('Reason: known transform bug')
    keys('Enter')
    await shows('Dropped 2 record(s): "known transform bug"')

    keys('/')
    await shows('/TypeError')
    for (let i = 0; i < 'TypeError'.length; i++) keys('BSpace')
    await shows('/  (enter: apply')
    keys('Enter')
    await shows('5 of 5 records, 2 handled')

    keys('R')
    await shows('Redrive 3 record(s) to')
    keys('y')
    await shows('Redriven 3, parked 0')
    await shows('5 of 5 records, 5 handled')
    keys('q')
    // tmux sometimes leaves the ended process unreaped for a long while, with the pane dead and
    // no status: the shell around triage says how it ended instead.
    const status = await waitFor(
      'triage to quit',
      () => (existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '' ? readFileSync(exitFile, 'utf8').trim() : undefined),
      15_000,
    )
    assert.is(status, '0', `triage did not exit 0 after q\n--- screen ---\n${screen()}`)

    const back = await readTopic(original)
    assert.equal(back.map((r) => [r.partition, r.key?.toString(), r.headers.map((h) => h.key).join(',')]).sort(), [
      [0, 'ord-2', 'trace,recover.redrive-count'],
      [1, 'ord-1', 'trace,recover.redrive-count'],
      [1, 'ord-3', 'trace,recover.redrive-count'],
    ])
    const trail = await withGateway((gateway) => readAuditTrail({ kind: 'kafka', topic: q }, gateway))
    assert.equal(
      trail.actions.map((a) => [a.action, a.records, a.reason ?? null]),
      [
        ['drop', 2, 'known transform bug'],
        ['redrive', 3, null],
      ],
    )
  }),
)

test.run()
