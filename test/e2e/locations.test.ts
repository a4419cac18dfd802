import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { envelopeLine } from '../../src/files/envelope.js'
import { runCli } from '../support/cli.js'
import { createTopic, produce, uniqueName } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

const dir = mkdtempSync(join(tmpdir(), 'recover-locations-'))
/** Nothing listens there: a command that tried to connect would fail with exit 5, not refuse its flags with exit 2. */
const NO_KAFKA = { RECOVER_BROKERS: '127.0.0.1:1' }

test(
  'replay --sink duckdb:FILE#T writes the table, and audit compare reads it back as duckdb:FILE?table=T and as duckdb:FILE#T',
  withTimeout(120_000, async () => {
    const topic = uniqueName('locations-duckdb')
    await createTopic(topic, 2)
    await produce(
      topic,
      Array.from({ length: 30 }, (_, i) => ({
        partition: i % 2,
        key: `o-${i}`,
        value: JSON.stringify({ id: `o-${i}`, n: i }),
        timestampMs: 1_700_000_000_000 + i,
      })),
    )
    const db = join(dir, `${uniqueName('out')}.duckdb`)
    const replayed = await runCli([
      'replay',
      '--topic',
      topic,
      '--value-format',
      'json',
      '--sink',
      `duckdb:${db}#orders`,
      '--create-table',
      '--quarantine',
      `file:${join(dir, `${uniqueName('q')}.jsonl`)}`,
      '--json',
    ])
    assert.is(replayed.exitCode, 0, replayed.stdout + replayed.stderr)
    assert.is(replayed.json.totals.written, 30)
    assert.is(replayed.json.sink, `duckdb:${db}?table=orders`, 'shown in the canonical spelling')
    for (const sink of [`duckdb:${db}?table=orders`, `duckdb:${db}#orders`]) {
      const compared = await runCli(['audit', 'compare', '--topic', topic, '--key', 'id', '--value-format', 'json', '--sink', sink, '--no-history', '--json'])
      assert.is(compared.exitCode, 0, compared.stdout + compared.stderr)
      assert.equal([compared.json.totals.sinkRows, compared.json.totals.missing, compared.json.totals.twice], [30, 0, 0], sink)
    }
  }),
)

test(
  'a location a flag does not take is refused the same way in every command, before connecting (exit 2)',
  withTimeout(60_000, async () => {
    const refused = async (args: string[], code: string, start: string) => {
      const run = await runCli([...args, '--json'], { env: NO_KAFKA })
      assert.equal([run.exitCode, run.json?.error?.code], [2, code], `${args.join(' ')}\n${run.stdout}${run.stderr}`)
      assert.ok(run.json.error.message.startsWith(start), `${run.json.error.message}\n  should start with ${start}`)
      assert.is(run.json.error.details.flag, start.split(' ')[0])
    }
    const unknown = '"ftp:" is not a supported scheme; use '
    await refused(['replay', '--topic', 'orders', '--sink', 'ftp:x'], 'BAD_SINK_URI', `--sink ftp:x: ${unknown}`)
    await refused(['quarantine', 'retry', '--dlq', 'kafka:orders.quarantine', '--all', '--sink', 'ftp:x'], 'BAD_SINK_URI', `--sink ftp:x: ${unknown}`)
    await refused(['audit', 'compare', '--topic', 'orders', '--key', 'key', '--sink', 'ftp:x'], 'BAD_SINK_URI', `--sink ftp:x: ${unknown}`)
    const lossy = 'file:q.csv: a quarantine must be lossless, and CSV is not; use '
    await refused(['replay', '--topic', 'orders', '--sink', 'kafka:orders.fixed', '--quarantine', 'file:q.csv'], 'BAD_QUARANTINE_URI', `--quarantine ${lossy}`)
    await refused(
      ['quarantine', 'retry', '--dlq', 'kafka:orders.quarantine', '--all', '--sink', 'kafka:orders.fixed', '--quarantine', 'file:q.csv'],
      'BAD_QUARANTINE_URI',
      `--quarantine ${lossy}`,
    )
    await refused(['quarantine', 'list', '--dlq', 'file:q.csv'], 'BAD_QUARANTINE_URI', `--dlq ${lossy}`)
    await refused(['quarantine', 'redrive', '--dlq', 'kafka:orders.quarantine', '--all', '--parking', 'file:q.csv'], 'BAD_QUARANTINE_URI', `--parking ${lossy}`)
    await refused(['quarantine', 'export', '--dlq', 'kafka:orders.quarantine', '--output', 'file:q.csv'], 'BAD_QUARANTINE_URI', `--output ${lossy}`)
    // Without --json: one "Error: …" sentence, not oclif's "Parsing --sink" wrapper.
    const text = await runCli(['replay', '--topic', 'orders', '--sink', 'ftp:x'], { env: NO_KAFKA })
    assert.is(text.exitCode, 2)
    assert.match(text.stderr, `Error: --sink ftp:x: ${unknown}`)
    assert.not.match(text.stderr, 'Parsing --sink')
  }),
)

test(
  'the old --from and --to of the quarantine commands still work for one release, with a warning on stderr (none under --json)',
  withTimeout(60_000, async () => {
    const quarantine = join(dir, `${uniqueName('dlq')}.jsonl`)
    const headers = [
      { key: 'recover.error.class', value: Buffer.from('DecodeError') },
      { key: 'recover.error.stage', value: Buffer.from('decode') },
    ]
    writeFileSync(
      quarantine,
      [0, 1, 2]
        .map((i) =>
          envelopeLine({
            topic: 'orders.quarantine',
            partition: 0,
            offset: BigInt(i),
            timestampMs: 1_700_000_000_000 + i,
            timestampType: 'create',
            key: Buffer.from(`k${i}`),
            value: Buffer.from('not json'),
            headers,
          }),
        )
        .join(''),
    )

    const current = await runCli(['quarantine', 'list', '--dlq', `file:${quarantine}`], { env: NO_KAFKA })
    assert.is(current.exitCode, 0, current.stderr)
    assert.not.match(current.stderr, 'Warning')
    const old = await runCli(['quarantine', 'list', '--from', `file:${quarantine}`], { env: NO_KAFKA })
    assert.is(old.exitCode, 0, old.stderr)
    assert.match(
      old.stderr,
      'Warning: --from is now --dlq in "recover quarantine list"; the old name still works in this release and will be removed in the next one.',
    )
    assert.is(old.stdout, current.stdout, 'the same listing')
    const equals = await runCli(['quarantine', 'list', `--from=file:${quarantine}`], { env: NO_KAFKA })
    assert.match(equals.stderr, 'Warning: --from is now --dlq')

    const currentJson = await runCli(['quarantine', 'list', '--dlq', `file:${quarantine}`, '--json'], { env: NO_KAFKA })
    const oldJson = await runCli(['quarantine', 'list', '--from', `file:${quarantine}`, '--json'], { env: NO_KAFKA })
    assert.is(oldJson.exitCode, 0)
    assert.is(oldJson.stderr, '', 'nothing on stderr under --json')
    assert.equal(oldJson.json.groups, currentJson.json.groups)

    const out = join(dir, `${uniqueName('export')}.jsonl`)
    const exported = await runCli(['quarantine', 'export', '--from', `file:${quarantine}`, '--to', out], { env: NO_KAFKA })
    assert.is(exported.exitCode, 0, exported.stderr)
    assert.match(exported.stderr, 'Warning: --from is now --dlq in "recover quarantine export"')
    assert.match(exported.stderr, 'Warning: --to is now --output in "recover quarantine export"')
    assert.ok(existsSync(out))
    assert.is(readFileSync(out, 'utf8').trim().split('\n').length, 3)

    const help = await runCli(['quarantine', 'list', '--help'], { env: NO_KAFKA })
    assert.match(help.stdout, 'quarantine list --dlq kafka:orders.quarantine')
    assert.not.match(help.stdout, /list --from/)
  }),
)

test.run()
