import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { headersForMessage, installOrderedHeaders } from '../../src/kafka/ordered-headers.js'
import {
  CORPUS_JSON_SCHEMA_FILE,
  CORPUS_PROTOBUF_MESSAGE,
  CORPUS_PROTOBUF_FRAMED_DIR,
  CORPUS_SECTIONS,
  type CorpusCase,
  type CorpusOutcome,
  type CorpusRecord,
  type CorpusSection,
} from '../../src/fixtures/bad-input-corpus.js'
import { corpusTransformPath, readBadInputCorpus } from '../../src/fixtures/bad-input-files.js'
import { runCli } from '../support/cli.js'
import { testBrokers, testKafka, uniqueName, withAdmin, withGateway } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { withTimeout } from '../support/timeout.js'

installOrderedHeaders()

/**
 * The bad-input corpus (fixtures/bad-input/corpus.jsonl) replayed section by section into a
 * file sink with a file quarantine: every record must end exactly where its case says (passed
 * byte for byte, dropped, or quarantined with the stage and kind named), untouched bytes in the
 * quarantine, and the counts reconcile.
 */
const corpus = readBadInputCorpus()
const dir = mkdtempSync(join(tmpdir(), 'recover-corpus-'))

interface Placed {
  caseName: string
  record: CorpusRecord
}

interface EnvelopeLine {
  offset: string
  key: string | null
  value: string | null
  headers: Array<{ key: string; value: string | null; text?: string }>
  timestamp: number
}

function kcat(args: string[], input: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kcat ${args.join(' ')} failed (${code}): ${stderr}`))))
    child.stdin.end(input)
  })
}

async function logEnd(topic: string): Promise<bigint> {
  return withGateway(async (g) => (await g.logOffsets(topic, [0]))[0]!.logEnd)
}

/** Produces the section's cases in order to partition 0 and returns offset -> record. */
async function produceSection(topic: string, cases: CorpusCase[]): Promise<Map<string, Placed>> {
  await withAdmin((admin) =>
    admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: 1,
          replicationFactor: 1,
          configEntries: [
            { name: 'retention.ms', value: '-1' },
            { name: 'message.timestamp.after.max.ms', value: '9223372036854775807' },
            { name: 'max.message.bytes', value: String(8 * 1024 * 1024) },
          ],
        },
      ],
    }),
  )
  const placed = new Map<string, Placed>()
  const producer = testKafka().producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    for (const c of cases) {
      const first = await logEnd(topic)
      if (c.compression) {
        // One kcat call, one compressed batch: lines of key TAB value.
        const input = Buffer.concat(c.records.flatMap((r) => [r.key!, Buffer.from('\t'), r.value!, Buffer.from('\n')]))
        await kcat(
          ['-P', '-b', testBrokers(), '-t', topic, '-p', '0', '-z', c.compression, '-K', '\t', '-X', 'linger.ms=100', '-X', 'batch.num.messages=100'],
          input,
        )
      } else {
        await producer.send({
          topic,
          acks: -1,
          messages: c.records.map((r) => ({
            partition: 0,
            key: r.key,
            value: r.value,
            timestamp: String(r.timestampMs),
            headers: headersForMessage(r.headers),
          })),
        })
      }
      const next = await logEnd(topic)
      assert.is(next - first, BigInt(c.records.length), `${c.name}: records produced`)
      c.records.forEach((record, i) => placed.set((first + BigInt(i)).toString(), { caseName: c.name, record }))
    }
  } finally {
    await producer.disconnect()
  }
  return placed
}

function readLines(path: string): EnvelopeLine[] {
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as EnvelopeLine)
}

const b64 = (b: Buffer | null) => (b === null ? null : b.toString('base64'))
const headerText = (line: EnvelopeLine, key: string) => line.headers.find((h) => h.key === key)?.text

function checkOutcome(where: string, expect: CorpusOutcome, out: EnvelopeLine | undefined, quarantined: EnvelopeLine | undefined): void {
  if (expect.outcome === 'passed') {
    assert.ok(out, `${where}: expected in the sink`)
    assert.is(quarantined, undefined, `${where}: must not be quarantined`)
    return
  }
  if (expect.outcome === 'dropped') {
    assert.is(out, undefined, `${where}: dropped, so not in the sink`)
    assert.is(quarantined, undefined, `${where}: dropped, so not quarantined`)
    return
  }
  assert.is(out, undefined, `${where}: quarantined, so not in the sink`)
  assert.ok(quarantined, `${where}: expected in the quarantine`)
  assert.is(headerText(quarantined!, 'recover.error.stage'), expect.stage, `${where}: stage`)
  if (expect.kind !== undefined) assert.is(headerText(quarantined!, 'recover.error.kind'), expect.kind, `${where}: kind`)
  if (expect.side !== undefined) assert.is(headerText(quarantined!, 'recover.error.side'), expect.side, `${where}: side`)
  if (expect.errorClass !== undefined) assert.is(headerText(quarantined!, 'recover.error.class'), expect.errorClass, `${where}: error class`)
}

async function replaySection(section: CorpusSection): Promise<void> {
  const cases = corpus.filter((c) => c.section === section)
  const topic = uniqueName(`corpus-${section}`)
  const placed = await produceSection(topic, cases)
  const sink = join(dir, `${topic}.out.jsonl`)
  const quarantine = join(dir, `${topic}.quarantine.jsonl`)
  const how = CORPUS_SECTIONS[section]
  const args = [
    'replay',
    '--topic',
    topic,
    '--key-format',
    how.keyFormat,
    '--value-format',
    how.valueFormat,
    '--sink',
    `file:${sink}`,
    '--quarantine',
    `file:${quarantine}`,
    '--checkpoint',
    join(dir, `${topic}.cp.json`),
    '--max-failure-rate',
    '0',
    '--json',
  ]
  if (how.valueFormat === 'avro') args.push('--schema', join(repoRoot(), 'fixtures', 'schemas'))
  if (how.valueFormat === 'json-schema') args.push('--schema', join(repoRoot(), 'fixtures', 'bad-input', CORPUS_JSON_SCHEMA_FILE))
  if (section === 'protobuf-framed') args.push('--schema', join(repoRoot(), 'fixtures', 'bad-input', CORPUS_PROTOBUF_FRAMED_DIR))
  else if (how.valueFormat === 'protobuf')
    args.push('--schema', join(repoRoot(), 'fixtures', 'protobuf', 'v1', 'orders.proto'), '--message', CORPUS_PROTOBUF_MESSAGE)
  if (how.transform) args.push('--transform', corpusTransformPath())
  const run = await runCli(args, { cwd: dir, timeoutMs: 120_000 })
  assert.is(run.exitCode, 0, run.stderr + run.stdout.slice(0, 2000))
  const s = run.json

  const outs = new Map(readLines(sink).map((l) => [l.offset, l]))
  const qs = new Map(readLines(quarantine).map((l) => [l.offset, l]))
  const counts = { passed: 0, dropped: 0, quarantined: 0 }
  for (const [offset, { caseName, record }] of placed) {
    const where = `${section}/${caseName}@${offset}`
    const out = outs.get(offset)
    const q = qs.get(offset)
    checkOutcome(where, record.expect, out, q)
    counts[record.expect.outcome]++
    const landed = out ?? q
    if (!landed) continue
    // Bytes untouched: the transform passes values unchanged and re-encoding them must give the same bytes; the quarantine keeps the originals.
    assert.is(landed.key, b64(record.key), `${where}: key bytes`)
    assert.is(landed.value, b64(record.value), `${where}: value bytes`)
    // Original headers first, in order (the quarantine appends its context after them).
    assert.equal(
      landed.headers.slice(0, record.headers.length).map((h) => [h.key, h.value]),
      record.headers.map((h) => [h.key, b64(h.value)]),
      `${where}: headers in order`,
    )
    if (out) assert.is(out.headers.length, record.headers.length, `${where}: no headers added`)
    if (record.timestampMs !== undefined) assert.is(landed.timestamp, record.timestampMs, `${where}: timestamp`)
  }
  assert.is(outs.size, counts.passed, `${section}: sink lines`)
  assert.is(qs.size, counts.quarantined, `${section}: quarantine lines`)
  assert.is(s.totals.read, placed.size)
  assert.is(s.totals.written, counts.passed)
  assert.is(s.totals.dropped, counts.dropped)
  assert.is(s.totals.quarantined, counts.quarantined)
  assert.is(s.totals.read, s.totals.written + s.totals.dropped + s.totals.quarantined)
  assert.ok(s.reconciled && s.finished)
  process.stderr.write(
    `  corpus ${section}: ${cases.length} cases, ${placed.size} records: ${counts.passed} passed, ${counts.dropped} dropped, ${counts.quarantined} quarantined\n`,
  )
}

test('the corpus has at least 25 kinds of bad input, and every record has an expected outcome', () => {
  assert.ok(corpus.length >= 25, String(corpus.length))
  assert.is(new Set(corpus.map((c) => c.name)).size, corpus.length)
  for (const c of corpus) assert.ok(c.records.length > 0 && c.records.every((r) => r.expect !== undefined), c.name)
})

for (const section of ['avro', 'json', 'bytes', 'json-schema', 'protobuf', 'protobuf-framed'] as const) {
  test(
    `corpus section ${section}: exactly the poison records are quarantined with their stage and kind, the rest pass, and counts reconcile`,
    withTimeout(180_000, () => replaySection(section)),
  )
}

test.run()
