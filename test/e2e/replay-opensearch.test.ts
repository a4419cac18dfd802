import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseEnvelopeLine } from '../../src/files/envelope.js'
import { parseSinkLocation } from '../../src/sinks/registry.js'
import { seedTopic } from '../faults/fault-support.js'
import { runCli, spawnCli } from '../support/cli.js'
import { createTopic, produce, testBrokers, uniqueName } from '../support/kafka.js'
import { killBetweenCommits } from '../support/kill-between-commits.js'
import { allDocuments, documentCount, osRequest, startOpenSearch, type OpenSearchServer } from '../support/opensearch.js'
import { startTlsAuthProxy } from '../support/tls-auth-proxy.js'
import { waitFor, withTimeout } from '../support/timeout.js'

/**
 * `replay --sink opensearch://…` against a real OpenSearch (2.19, from Maven Central, started
 * once for this file; RECOVER_TEST_SEARCH=elasticsearch runs it against Elasticsearch 8.17
 * with elasticsearch:// locations): documents by key, a repeated replay overwrites, a mapping error is
 * quarantined with the server's reason, and neither kill -9 of recover nor of the server
 * loses or doubles a document. `audit compare --sink opensearch://…` lists what never arrived.
 */
const RECORDS = 3_000
const dir = mkdtempSync(join(tmpdir(), 'recover-opensearch-'))
let server: OpenSearchServer
let topic: string

const expectedIds = (n = RECORDS) => Array.from({ length: n }, (_, i) => `k-${i}`).sort()
const sinkOf = (index: string, query = '') => `${server.engine}://127.0.0.1:${server.port}/${index}${query}`
const replayArgs = (sink: string, name: string, extra: string[] = []) => [
  'replay',
  '--topic',
  topic,
  '--value-format',
  'json',
  '--sink',
  sink,
  '--quarantine',
  `file:${join(dir, `${name}-q.jsonl`)}`,
  '--checkpoint',
  join(dir, `${name}-cp.json`),
  '--json',
  ...extra,
]

test.before(
  withTimeout(300_000, async () => {
    topic = uniqueName('os-orders')
    const [started] = await Promise.all([startOpenSearch(), seedTopic(testBrokers(), topic, RECORDS)])
    server = started
    process.stderr.write(
      `${server.engine} ${server.version} on ${server.url}: ready in ${server.startMs} ms${server.installed.downloaded ? ` (downloaded and unpacked in ${server.installed.ms} ms first)` : ''}\n`,
    )
  }),
)

test.after(async () => {
  await server?.stop()
})

test('opensearch:// locations: https with a CA, the elasticsearch alias, and no secret is ever shown', () => {
  const basic = parseSinkLocation('opensearchs://app:s3cret@search:9200/orders?ca=/etc/ca.pem')
  assert.is(basic.display, 'opensearchs://app:***@search:9200/orders?ca=/etc/ca.pem')
  const key = parseSinkLocation('elasticsearch://es:9200/orders?api_key=c2VjcmV0&id=offset')
  assert.is(key.kind, 'opensearch')
  assert.is(key.display, 'elasticsearch://es:9200/orders?id=offset&api_key=***')
  try {
    parseSinkLocation('opensearch://es:9200/Orders?api_key=c2VjcmV0')
    assert.unreachable('an upper-case index is refused')
  } catch (error) {
    const e = error as { code: string; message: string }
    assert.is(e.code, 'BAD_SINK_URI')
    assert.ok(!e.message.includes('c2VjcmV0'), e.message)
    assert.match(e.message, 'is not an index name')
  }
})

test(
  'a cluster that is not there: SINK_UNREACHABLE at once, exit 5, the password never shown',
  withTimeout(60_000, async () => {
    const run = await runCli(replayArgs('opensearch://app:s3cret@127.0.0.1:1/orders', uniqueName('nowhere')), { cwd: dir, timeoutMs: 50_000 })
    assert.is(run.exitCode, 5, run.stderr)
    const error = (run.json as { error: { code: string; message: string } }).error
    assert.is(error.code, 'SINK_UNREACHABLE')
    assert.match(error.message, 'opensearch://app:***@127.0.0.1:1/orders could not be reached')
    assert.ok(!`${run.stdout}${run.stderr}`.includes('s3cret'))
  }),
)

test(
  'a replay writes one document per key, and a repeated replay overwrites instead of duplicating',
  withTimeout(180_000, async () => {
    const index = uniqueName('orders')
    const first = await runCli(replayArgs(sinkOf(index), `${index}-1`, ['--batch-size', '500']), { cwd: dir, timeoutMs: 120_000 })
    assert.is(first.exitCode, 0, first.stderr)
    assert.is((first.json as { totals: { written: number } }).totals.written, RECORDS)
    let docs = await allDocuments(server, index)
    assert.equal([...docs.keys()].sort(), expectedIds())
    assert.equal(docs.get('k-17'), { id: 17, note: 'fault-injection payload' })

    const again = await runCli(replayArgs(sinkOf(index), `${index}-2`), { cwd: dir, timeoutMs: 120_000 })
    assert.is(again.exitCode, 0, again.stderr)
    docs = await allDocuments(server, index)
    assert.is(docs.size, RECORDS)
    const stats = await osRequest(server, 'GET', `/${index}/_stats/docs`)
    assert.is(stats._all.primaries.docs.count, RECORDS, 'no hidden second copy')
  }),
)

test(
  "an index that already holds another source's documents: the replay says so in its warnings, replaces the documents with its keys' ids and leaves the others",
  withTimeout(180_000, async () => {
    const index = uniqueName('shared')
    // Written by someone else: one id that is also a record key, two that are not.
    for (const [id, doc] of [
      ['k-5', { from: 'the live pipeline' }],
      ['cust-1', { from: 'the live pipeline' }],
      ['cust-2', { from: 'the live pipeline' }],
    ] as const)
      await osRequest(server, 'PUT', `/${index}/_doc/${id}?refresh=true`, doc)
    const run = await runCli(replayArgs(sinkOf(index), index), { cwd: dir, timeoutMs: 120_000 })
    assert.is(run.exitCode, 0, run.stderr)
    const warnings = (run.json as { warnings: string[] }).warnings
    const said = warnings.find((w) => w.includes('already holds'))
    assert.ok(said, warnings.join('\n'))
    assert.match(said!, `${index} already holds 3 document(s): each record replaces the document whose id is its key`)
    assert.match(said!, 'documents with other ids stay as they are')
    const docs = await allDocuments(server, index)
    assert.is(docs.size, RECORDS + 2)
    assert.equal(docs.get('k-5'), { id: 5, note: 'fault-injection payload' })
    assert.equal(docs.get('cust-1'), { from: 'the live pipeline' })
    assert.equal(docs.get('cust-2'), { from: 'the live pipeline' })
    const audit = await runCli(
      ['audit', 'compare', '--topic', topic, '--sink', sinkOf(index), '--key', 'key', '--db', join(dir, `${index}.duckdb`), '--json'],
      {
        cwd: dir,
        timeoutMs: 120_000,
      },
    )
    assert.is(audit.exitCode, 0, audit.stderr)
    const totals = (audit.json as { totals: { missing: number; twice: number; onlyInSink: number; sinkRows: number } }).totals
    assert.equal([totals.sinkRows, totals.missing, totals.twice, totals.onlyInSink], [RECORDS + 2, 0, 0, 2], 'the other documents are only in the sink')

    // A new index: nothing to say.
    const fresh = await runCli(replayArgs(sinkOf(uniqueName('fresh')), `${index}-fresh`), { cwd: dir, timeoutMs: 120_000 })
    assert.is(fresh.exitCode, 0, fresh.stderr)
    assert.not.ok(
      (fresh.json as { warnings: string[] }).warnings.some((w) => w.includes('already holds')),
      'no warning for an index that does not exist yet',
    )
  }),
)

test(
  'id=offset names documents TOPIC-PARTITION-OFFSET, and provenance=true adds the source fields',
  withTimeout(120_000, async () => {
    const index = uniqueName('by-offset')
    const run = await runCli(replayArgs(sinkOf(index, '?id=offset&provenance=true'), index), { cwd: dir, timeoutMs: 120_000 })
    assert.is(run.exitCode, 0, run.stderr)
    const docs = await allDocuments(server, index)
    assert.is(docs.size, RECORDS)
    // seedTopic puts id i at offset ⌊i/3⌋ of partition i mod 3.
    const doc = docs.get(`${topic}-2-10`)
    assert.equal(doc, { id: 32, note: 'fault-injection payload', source_topic: topic, source_partition: 2, source_offset: 10 })
  }),
)

test(
  'a document the mapping refuses is quarantined with the server reason; the rest of its batch is written',
  withTimeout(120_000, async () => {
    const mixed = uniqueName('os-mixed')
    const index = uniqueName('typed')
    await createTopic(mixed, 1)
    await osRequest(server, 'PUT', `/${index}`, { mappings: { dynamic: 'strict', properties: { id: { type: 'integer' }, note: { type: 'text' } } } })
    await produce(mixed, [
      { partition: 0, key: 'a', value: '{"id":1,"note":"fine"}', timestampMs: Date.now() },
      { partition: 0, key: 'b', value: '{"id":"not a number","note":"bad"}', timestampMs: Date.now() },
      { partition: 0, key: 'c', value: '{"id":3,"note":"fine"}', timestampMs: Date.now() },
      { partition: 0, key: 'd', value: '{"id":4,"extra":"not in the strict mapping"}', timestampMs: Date.now() },
    ])
    const quarantine = join(dir, `${index}-q.jsonl`)
    const run = await runCli(
      [
        'replay',
        '--topic',
        mixed,
        '--value-format',
        'json',
        '--sink',
        sinkOf(index),
        '--quarantine',
        `file:${quarantine}`,
        '--checkpoint',
        join(dir, `${index}-cp.json`),
        '--json',
      ],
      { cwd: dir, timeoutMs: 60_000 },
    )
    assert.is(run.exitCode, 0, run.stderr)
    const summary = run.json as { totals: { written: number; quarantined: number } }
    assert.is(summary.totals.written, 2)
    assert.is(summary.totals.quarantined, 2)
    assert.equal([...(await allDocuments(server, index)).keys()].sort(), ['a', 'c'])
    const dead = readFileSync(quarantine, 'utf8').trim().split('\n').map(parseEnvelopeLine)
    const header = (d: (typeof dead)[number], name: string) => d.headers.find((h) => h.key === name)?.value?.toString('utf8') ?? ''
    assert.equal(
      dead.map((d) => d.key?.toString()),
      ['b', 'd'],
    )
    assert.is(header(dead[0]!, 'recover.error.stage'), 'sink')
    assert.match(header(dead[0]!, 'recover.error.message'), /(mapper|document)_parsing_exception/)
    assert.match(header(dead[1]!, 'recover.error.message'), 'mapping set to strict')
  }),
)

test(
  'kill -9 of recover between commits, then --resume: every document exactly once',
  withTimeout(300_000, async () => {
    const index = uniqueName('killed')
    const args = replayArgs(sinkOf(index), index, ['--batch-size', '250', '--rate', '600'])
    await killBetweenCommits({ args, cwd: dir, kills: 2, committed: () => documentCount(server, index) })
    const finish = await runCli([...args, '--resume'], { cwd: dir, timeoutMs: 120_000 })
    assert.is(finish.exitCode, 0, finish.stderr)
    const summary = finish.json as { finished: boolean; reconciled: boolean; totals: { read: number } }
    assert.ok(summary.finished && summary.reconciled, finish.stdout)
    assert.is(summary.totals.read, RECORDS)
    const docs = await allDocuments(server, index)
    assert.equal([...docs.keys()].sort(), expectedIds())
    for (const [id, doc] of docs) assert.is(`k-${doc.id}`, id)
  }),
)

test(
  'the server killed (kill -9) and restarted mid-replay: the replay waits, completes, nothing lost',
  withTimeout(360_000, async () => {
    const index = uniqueName('restarted')
    // Elasticsearch 8 takes longer than the default 60 s to start on a loaded machine.
    const args = replayArgs(sinkOf(index), index, ['--batch-size', '250', '--rate', '500', '--sink-retry', '240s'])
    const run = spawnCli(args, { cwd: dir })
    try {
      await waitFor('a third of the documents', async () => ((await documentCount(server, index)) >= RECORDS / 3 ? true : undefined), 120_000, 200)
      await server.kill()
      await new Promise((r) => setTimeout(r, 2_000))
      await server.start()
      process.stderr.write(`${server.engine} restarted in ${server.startMs} ms\n`)
    } catch (error) {
      run.child.kill('SIGKILL')
      throw error
    }
    const ended = await run.done
    assert.is(ended.code, 0, `${ended.stdout}\n${ended.stderr}`)
    const summary = JSON.parse(ended.stdout) as { finished: boolean; totals: { read: number; written: number } }
    assert.ok(summary.finished)
    assert.is(summary.totals.read, RECORDS)
    const docs = await allDocuments(server, index)
    assert.equal([...docs.keys()].sort(), expectedIds())
  }),
)

const auditCompare = (sink: string, ...extra: string[]) =>
  runCli(['audit', 'compare', '--topic', topic, '--sink', sink, '--db', join(dir, `${uniqueName('audit')}.duckdb`), '--json', ...extra], {
    cwd: dir,
    timeoutMs: 120_000,
  })

test(
  'audit compare right after a replay counts every acknowledged document, also those no refresh has made searchable yet',
  withTimeout(240_000, async () => {
    // Periodic refresh off: until something refreshes the index, a search sees none of the replay's documents.
    const index = uniqueName('unrefreshed')
    await osRequest(server, 'PUT', `/${index}`, { settings: { index: { refresh_interval: '-1', number_of_replicas: 0 } } })
    const run = await runCli(replayArgs(sinkOf(index), index), { cwd: dir, timeoutMs: 120_000 })
    assert.is(run.exitCode, 0, run.stderr)
    const audit = await auditCompare(sinkOf(index), '--key', 'key')
    assert.is(audit.exitCode, 0, audit.stderr)
    const totals = (audit.json as { totals: { sourceRecords: number; missing: number; twice: number } }).totals
    assert.equal([totals.sourceRecords, totals.missing, totals.twice], [RECORDS, 0, 0], JSON.stringify(totals))
  }),
)

test(
  'audit compare --sink opensearch://: the keys that never arrived, and with provenance their exact offsets',
  withTimeout(240_000, async () => {
    const byKey = uniqueName('audited')
    const byOffset = uniqueName('audited-offsets')
    for (const [index, query] of [
      [byKey, ''],
      [byOffset, '?id=offset&provenance=true'],
    ] as const) {
      const run = await runCli(replayArgs(sinkOf(index, query), index), { cwd: dir, timeoutMs: 120_000 })
      assert.is(run.exitCode, 0, run.stderr)
    }
    // k-7 is at offset 2 of partition 1, k-11 at offset 3 of partition 2 (seedTopic: id i at ⌊i/3⌋ of i mod 3).
    for (const id of ['k-7', 'k-11']) await osRequest(server, 'DELETE', `/${byKey}/_doc/${id}?refresh=true`)
    for (const id of [`${topic}-1-2`, `${topic}-2-3`]) await osRequest(server, 'DELETE', `/${byOffset}/_doc/${id}?refresh=true`)

    const keys = await auditCompare(sinkOf(byKey), '--key', 'key')
    assert.is(keys.exitCode, 0, keys.stderr)
    const k = keys.json as { totals: { sourceRecords: number; missing: number; twice: number }; missing: Array<{ key: string }>; lost: unknown }
    assert.is(k.totals.sourceRecords, RECORDS)
    assert.is(k.totals.missing, 2)
    assert.is(k.totals.twice, 0)
    assert.equal(k.missing.map((m) => m.key).sort(), ['k-11', 'k-7'])
    assert.is(k.lost, null, 'documents by key keep no provenance')

    const offsets = await auditCompare(sinkOf(byOffset, '?id=offset&provenance=true'), '--key', 'id')
    assert.is(offsets.exitCode, 0, offsets.stderr)
    const o = offsets.json as { totals: { missing: number }; lost: Array<{ partition: number; offset: string }>; provenance: unknown }
    assert.is(o.totals.missing, 2)
    assert.equal(o.provenance, { partition: 'source_partition', offset: 'source_offset' })
    assert.equal(o.lost.map((l) => `${l.partition}@${l.offset}`).sort(), ['1@2', '2@3'])
  }),
)

test(
  'HTTPS with a CA file, basic auth and an API key reach the server; wrong credentials stop with the reason, no secret shown',
  withTimeout(180_000, async () => {
    const proxy = await startTlsAuthProxy(server, { basic: ['app', 's3cret'], apiKey: 'a2V5aWQ6a2V5c2VjcmV0' })
    try {
      const secure = (credentials: string, index: string, query = '') =>
        `${server.engine}s://${credentials}127.0.0.1:${proxy.port}/${index}?ca=${proxy.caFile}${query}`
      const basic = uniqueName('tls-basic')
      const byPassword = await runCli(replayArgs(secure('app:s3cret@', basic), basic), { cwd: dir, timeoutMs: 120_000 })
      assert.is(byPassword.exitCode, 0, byPassword.stderr)
      assert.is(await documentCount(server, basic), RECORDS)
      assert.ok(!byPassword.stdout.includes('s3cret'), 'the password is not in the summary')

      const keyed = uniqueName('tls-key')
      const byKey = await runCli(replayArgs(secure('', keyed, '&api_key=a2V5aWQ6a2V5c2VjcmV0'), keyed), { cwd: dir, timeoutMs: 120_000 })
      assert.is(byKey.exitCode, 0, byKey.stderr)
      assert.is(await documentCount(server, keyed), RECORDS)
      assert.ok(!`${byKey.stdout}${byKey.stderr}`.includes('a2V5aWQ6a2V5c2VjcmV0'), 'the API key is never shown')

      const wrong = await runCli(replayArgs(secure('app:wrong@', uniqueName('tls-wrong')), uniqueName('tls-wrong')), { cwd: dir, timeoutMs: 60_000 })
      assert.is(wrong.exitCode, 5, wrong.stderr)
      const error = (wrong.json as { error: { code: string; message: string; nextSteps: string[] } }).error
      assert.is(error.code, 'SINK_FAILED')
      assert.match(error.message, 'HTTP 401 security_exception')
      assert.match(error.nextSteps.join(' '), 'Check the credentials')
      assert.ok(proxy.refused() >= 1)

      const untrusted = await runCli(replayArgs(`${server.engine}s://app:s3cret@127.0.0.1:${proxy.port}/x`, uniqueName('tls-ca')), {
        cwd: dir,
        timeoutMs: 60_000,
      })
      assert.is(untrusted.exitCode, 5, untrusted.stderr)
      assert.match((untrusted.json as { error: { message: string } }).error.message, 'certificate')
    } finally {
      await proxy.stop()
    }
  }),
)

test.run()
