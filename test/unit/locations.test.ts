import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseLocation, LocationSyntaxError, type AnyLocation } from '../../src/core/location.js'
import { parseAuditSink } from '../../src/core/audit-sink.js'
import { RecoveryError } from '../../src/errors.js'
import type { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import { parseEnvelopeFileLocation, parseQuarantineLocation, quarantineIsShareable } from '../../src/quarantine/quarantine-location.js'
import {
  checkSinkOptions,
  createSink,
  parseSinkLocation,
  registerSink,
  sinkCommitsProgress,
  sinkKinds,
  type SinkCapabilities,
} from '../../src/sinks/registry.js'
import { toRecoveryError } from '../../src/cli/to-recovery-error.js'
import { repoRoot } from '../support/paths.js'

function refusal(parse: () => unknown): RecoveryError {
  try {
    parse()
  } catch (error) {
    if (error instanceof RecoveryError) return error
    throw error
  }
  throw new Error('expected a refusal')
}

test('the grammar: every scheme parses to its typed location, shown in one canonical spelling', () => {
  assert.equal(parseLocation('kafka:orders.fixed'), { kind: 'kafka', topic: 'orders.fixed', display: 'kafka:orders.fixed' })
  assert.equal(parseLocation('KAFKA://orders'), { kind: 'kafka', topic: 'orders', display: 'kafka:orders' })
  assert.equal(parseLocation('file:out/x.jsonl'), { kind: 'file', path: 'out/x.jsonl', format: 'jsonl', display: 'file:out/x.jsonl' })
  assert.equal(parseLocation('file:x.NDJSON'), { kind: 'file', path: 'x.NDJSON', format: 'jsonl', display: 'file:x.NDJSON' })
  assert.equal(parseLocation('file:///tmp/x.csv'), { kind: 'file', path: '/tmp/x.csv', format: 'csv', display: 'file:/tmp/x.csv' })
  assert.equal(parseLocation('  x.parquet '), { kind: 'file', path: 'x.parquet', format: 'parquet', display: 'file:x.parquet' })
  assert.equal(parseLocation('d/x.tsv.gz'), { kind: 'file', path: 'd/x.tsv.gz', format: 'tsv', compression: 'gz', display: 'file:d/x.tsv.gz' })
  assert.equal(parseLocation('x.json.zst'), { kind: 'file', path: 'x.json.zst', format: 'json', compression: 'zst', display: 'file:x.json.zst' })
  assert.equal(
    parseLocation('C:\\out\\x.jsonl'),
    { kind: 'file', path: 'C:\\out\\x.jsonl', format: 'jsonl', display: 'file:C:\\out\\x.jsonl' },
    'a drive letter is not a scheme',
  )
  assert.equal(parseLocation('duckdb:out/a.db?table=t'), { kind: 'duckdb', path: 'out/a.db', table: 't', display: 'duckdb:out/a.db?table=t' })
  assert.equal(parseLocation('duckdb:out/a.db#main.t'), { kind: 'duckdb', path: 'out/a.db', table: 'main.t', display: 'duckdb:out/a.db?table=main.t' })
  assert.equal(parseLocation('plugin:./s.ts#db1'), { kind: 'plugin', path: './s.ts', target: 'db1', display: 'plugin:./s.ts#db1' })
  assert.equal(parseLocation('plugin:./s.ts'), { kind: 'plugin', path: './s.ts', target: '', display: 'plugin:./s.ts' })
  const pg = parseLocation('postgresql://app:s3cret@db:5432/shop?sslmode=disable&table=public.orders&key=order_id, line&layout=jsonb')
  assert.equal(pg, {
    kind: 'postgres',
    connection: 'postgresql://app:s3cret@db:5432/shop?sslmode=disable',
    table: 'public.orders',
    key: ['order_id', 'line'],
    layout: 'jsonb',
    display: 'postgresql://app:***@db:5432/shop?sslmode=disable&table=public.orders&key=order_id,line&layout=jsonb',
  })
  const noKey = parseLocation('postgres://postgres@127.0.0.1:5432/test?table=t')
  assert.equal(noKey.kind === 'postgres' && [noKey.connection, noKey.key, noKey.layout, noKey.display], [
    'postgres://postgres@127.0.0.1:5432/test',
    [],
    'fields',
    'postgres://postgres@127.0.0.1:5432/test?table=t',
  ])
})

test('the grammar: what is wrong with a text, in one reason each', () => {
  const why = (text: string) => {
    try {
      parseLocation(text)
    } catch (error) {
      assert.instance(error, LocationSyntaxError)
      return (error as LocationSyntaxError).why
    }
    return 'parsed'
  }
  assert.is(why(''), 'it is empty')
  assert.is(why('orders'), 'it has no scheme')
  assert.is(why('s3:bucket/x.jsonl'), '"s3:" is not a supported scheme')
  assert.is(why('kafka:bad topic'), '"bad topic" is not a Kafka topic name')
  assert.is(why(`kafka:${'x'.repeat(250)}`), `"${'x'.repeat(250)}" is not a Kafka topic name`)
  assert.is(why('file:'), 'the file path is empty')
  assert.is(why('file:x.txt'), 'the file has no extension recover knows')
  assert.is(why('postgres://db/shop'), 'it needs ?table=NAME (letters, digits, _ and an optional schema.)')
  assert.is(why('postgres://db/shop?table=t;drop'), 'it needs ?table=NAME (letters, digits, _ and an optional schema.)')
  assert.is(why('postgres://db/shop?table=t&key=a-b'), '"a-b" is not a plain column name')
  assert.is(why('postgres://db/shop?table=t&layout=xml'), 'layout must be fields or jsonb, not "xml"')
  assert.is(why('postgres://[bad'), 'it is not a URL')
  assert.is(why('duckdb:a.db'), 'it needs ?table=NAME or #NAME (letters, digits, _ and an optional schema.)')
  assert.is(why('duckdb:#t'), 'the database file is empty')
  assert.is(why('plugin:#t'), 'the plugin path is empty')
})

test('one location, every command: the same text is the same location in every flag that takes it', () => {
  for (const text of ['kafka:orders', 'file:q.jsonl', 'q.jsonl']) {
    const asQuarantine = parseQuarantineLocation(text, '--dlq')
    assert.equal(parseSinkLocation(text), asQuarantine, text)
    assert.equal(parseAuditSink(text), asQuarantine, text)
  }
  assert.equal(parseEnvelopeFileLocation('file:q.jsonl'), parseQuarantineLocation('q.jsonl'))
  // duckdb:FILE#T works for replay as it does for audit compare, and both spellings are one location.
  assert.equal(parseSinkLocation('duckdb:x.db#t'), parseAuditSink('duckdb:x.db?table=t'))
  assert.equal(parseSinkLocation('duckdb:x.db?table=t'), parseAuditSink('duckdb:x.db#t'))
  // A replay's PostgreSQL sink audits verbatim.
  const sink = 'postgres://app@db:5432/shop?table=orders_fixed&key=order_id'
  assert.equal(parseAuditSink(sink), parseSinkLocation(sink))
})

test('each flag refuses what it does not take, in one shape: "--flag TEXT: why; use FORMS." with flag and uri in details', () => {
  const cases: Array<[() => unknown, string, string, RegExp]> = [
    [
      () => parseSinkLocation('ftp:x'),
      'BAD_SINK_URI',
      '--sink ftp:x: "ftp:" is not a supported scheme; use kafka:TOPIC, ',
      /file:PATH\.parquet, opensearch:\/\/HOST:9200\/INDEX \(or elasticsearch:\/\/\), s3:\/\/BUCKET\/PREFIX.* or plugin:PATH\.ts#TARGET\.$/,
    ],
    [() => parseSinkLocation('file:x.txt'), 'BAD_SINK_URI', '--sink file:x.txt: a sink file must end in .jsonl, .csv, .parquet; use ', /\.$/],
    [() => parseSinkLocation('x.json'), 'BAD_SINK_URI', '--sink x.json: a sink file must end in .jsonl, .csv, .parquet, not .json; use ', /\.$/],
    [() => parseSinkLocation('file:x.jsonl.gz'), 'BAD_SINK_URI', '--sink file:x.jsonl.gz: a sink writes uncompressed files; use ', /\.$/],
    [
      () => parseSinkLocation('postgres://app:s3cret@db/shop?table=t'),
      'BAD_SINK_URI',
      '--sink postgres://app:***@db/shop?table=t: it needs &key=COLUMN[,COLUMN]',
      /\.$/,
    ],
    [() => parseSinkLocation('orders', '--sink'), 'BAD_SINK_URI', '--sink orders: it has no scheme; use ', /\.$/],
    [
      () => parseQuarantineLocation('file:q.csv'),
      'BAD_QUARANTINE_URI',
      '--quarantine file:q.csv: a quarantine must be lossless, and CSV is not; use kafka:TOPIC or file:PATH.jsonl.',
      /\.$/,
    ],
    [
      () => parseQuarantineLocation('file:q.parquet', '--parking'),
      'BAD_QUARANTINE_URI',
      '--parking file:q.parquet: a quarantine must be lossless and appendable, and Parquet is neither; use kafka:TOPIC or file:PATH.jsonl.',
      /\.$/,
    ],
    [
      () => parseQuarantineLocation('postgres://db/shop?table=t&key=id', '--dlq'),
      'BAD_QUARANTINE_URI',
      '--dlq postgres://db/shop?table=t&key=id: a quarantine must be Kafka or a JSONL file; use kafka:TOPIC or file:PATH.jsonl.',
      /\.$/,
    ],
    [() => parseQuarantineLocation('duckdb:a.db#t'), 'BAD_QUARANTINE_URI', '--quarantine duckdb:a.db#t: a quarantine must be Kafka or a JSONL file;', /\.$/],
    [() => parseQuarantineLocation('plugin:x.ts'), 'BAD_QUARANTINE_URI', '--quarantine plugin:x.ts: a quarantine cannot be a plugin;', /\.$/],
    [() => parseQuarantineLocation('file:q.txt', '--dlq'), 'BAD_QUARANTINE_URI', '--dlq file:q.txt: the file must be a .jsonl envelope file;', /\.$/],
    [() => parseQuarantineLocation('orders', '--dlq'), 'BAD_QUARANTINE_URI', '--dlq orders: it has no scheme; use kafka:TOPIC or file:PATH.jsonl.', /\.$/],
    [
      () => parseEnvelopeFileLocation('kafka:orders'),
      'BAD_QUARANTINE_URI',
      '--output kafka:orders: this writes a file, not a topic; use file:PATH.jsonl (or PATH.jsonl).',
      /\.$/,
    ],
    [() => parseAuditSink('plugin:x.ts#t'), 'BAD_SINK_URI', '--sink plugin:x.ts#t: audit compare cannot read a sink plugin;', /\.$/],
    [() => parseAuditSink('x.txt'), 'BAD_SINK_URI', '--sink x.txt: it has no scheme;', /\.$/],
    [
      () => parseAuditSink('file:x.txt'),
      'BAD_SINK_URI',
      '--sink file:x.txt: audit compare reads .jsonl, .ndjson, .json, .csv, .tsv and .parquet files (optionally .gz or .zst);',
      /\.$/,
    ],
    [() => parseAuditSink('kafka:bad topic'), 'BAD_SINK_URI', '--sink kafka:bad topic: "bad topic" is not a Kafka topic name;', /\.$/],
  ]
  for (const [parse, code, start, end] of cases) {
    const e = refusal(parse)
    assert.is(e.code, code, e.message)
    assert.is(e.exitCode, 2)
    assert.ok(e.message.startsWith(start), `${e.message}\n  should start with ${start}`)
    assert.match(e.message, end)
    assert.equal(Object.keys(e.details).sort(), ['flag', 'uri'])
    assert.not.match(e.message + JSON.stringify(e.details), /s3cret/)
  }
})

test('a location flag refusal reads as its own sentence, not as oclif\'s "Parsing --sink" wrapper', () => {
  const e = refusal(() => parseSinkLocation('ftp:x'))
  e.message = `Parsing --sink \n\t${e.message}\nSee more help with --help`
  assert.ok(toRecoveryError(e).message.startsWith('--sink ftp:x: "ftp:" is not a supported scheme; use '))
})

/** The capability table of docs/locations.md, as the registry's names and values. */
function documentedCapabilities(): Map<string, string[]> {
  const doc = readFileSync(join(repoRoot(), 'docs', 'locations.md'), 'utf8')
  const section = doc.slice(doc.indexOf('## What each sink can do'), doc.indexOf('## Adding a sink'))
  const rows = new Map<string, string[]>()
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim())
    if (cells.length < 9 || cells[1] === 'Sink' || cells[1]!.startsWith('---')) continue
    rows.set(cells[1]!, cells.slice(3, 9))
  }
  return rows
}

function asDocumented(c: SinkCapabilities): string[] {
  const level = (v: 'always' | 'opt-in' | 'never') => (v === 'always' ? 'yes' : v === 'opt-in' ? 'with --exactly-once' : 'no')
  const yes = (b: boolean) => (b ? 'yes' : 'no')
  return [level(c.transactional), level(c.exactlyOnce), yes(c.shareable), yes(c.keyedUpsert), yes(c.truncatedOnResume), yes(c.runsPluginCode)]
}

test('docs/locations.md lists every sink kind with exactly the capabilities the registry declares', () => {
  const documented = documentedCapabilities()
  assert.equal(
    [...documented.keys()],
    sinkKinds().map((k) => k.name),
  )
  for (const kind of sinkKinds()) assert.equal(documented.get(kind.name), asDocumented(kind.capabilities), kind.name)
})

test('what each built-in sink declares is what it does: transactional, and whether a resume may write twice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recover-locations-'))
  const plugin = join(dir, 'sink.mjs')
  writeFileSync(plugin, "import { defineSink } from 'recover/plugin-api'\nexport default defineSink({ name: 'n', version: '1', write() {} })\n")
  const texts: Record<string, string> = {
    kafka: 'kafka:orders.fixed',
    postgres: 'postgres://db/shop?table=t&key=id',
    duckdb: `duckdb:${join(dir, 'a.db')}#t`,
    jsonl: `file:${join(dir, 'x.jsonl')}`,
    csv: `file:${join(dir, 'x.csv')}`,
    parquet: `file:${join(dir, 'x.parquet')}`,
    opensearch: 'opensearch://127.0.0.1:9200/orders',
    s3: 's3://recover-bucket/replays',
    plugin: `plugin:${plugin}#t`,
  }
  assert.equal(
    Object.keys(texts),
    sinkKinds().map((k) => k.name),
    'a location for each built-in kind',
  )
  // Building a sink does no I/O (open does): a gateway is not needed to look at it.
  const context = {
    gateway: {} as KafkaGateway,
    partitions: 1,
    formats: { key: 'bytes', value: 'bytes' },
    pluginContext: () => ({ signal: new AbortController().signal, log: () => undefined, plugin: { name: 'n', version: '1' } }),
  }
  for (const kind of sinkKinds()) {
    const location = parseSinkLocation(texts[kind.name]!)
    for (const exactlyOnce of kind.capabilities.exactlyOnce === 'never' ? [false] : [false, true]) {
      const sink = await createSink(location, { ...context, exactlyOnce })
      const committed = sinkCommitsProgress(location, { exactlyOnce })
      assert.is(sink.transactional === true, committed, `${kind.name} transactional${exactlyOnce ? ' with --exactly-once' : ''}`)
      const once = kind.capabilities.exactlyOnce === 'always' || (kind.capabilities.exactlyOnce === 'opt-in' && exactlyOnce)
      assert.is(sink.mayDuplicateOnResume, !once, `${kind.name} may write twice on resume${exactlyOnce ? ' with --exactly-once' : ''}`)
    }
  }
})

test('--exactly-once, --scale-out and the process.exit guard follow the declarations', () => {
  const plugin = parseSinkLocation('plugin:./s.ts#t')
  const e = refusal(() => checkSinkOptions(plugin, { exactlyOnce: true }))
  assert.is(e.code, 'USAGE')
  assert.match(e.message, "--exactly-once needs a sink that can commit a batch with the replay's progress (kafka:TOPIC, postgres://")
  checkSinkOptions(parseSinkLocation('kafka:t'), { exactlyOnce: true })
  assert.is(quarantineIsShareable(parseQuarantineLocation('kafka:q')), true)
  assert.is(quarantineIsShareable(parseQuarantineLocation('file:q.jsonl')), false)
})

test('registerSink: a new scheme parses through the sink flags only, and a second kind for the same place is refused', () => {
  const remove = registerSink<AnyLocation & { name: string }>({
    name: 'memory',
    scheme: 'memory',
    form: 'memory:NAME',
    parse: (text) => ({ kind: 'memory', name: text.slice('memory:'.length), display: text }),
    capabilities: { transactional: 'never', exactlyOnce: 'never', shareable: false, keyedUpsert: false, truncatedOnResume: false, runsPluginCode: false },
    create: async () => {
      throw new Error('not opened in this test')
    },
  })
  try {
    assert.equal(parseSinkLocation('memory:a'), { kind: 'memory', name: 'a', display: 'memory:a' })
    assert.match(refusal(() => parseSinkLocation('nope:a')).message, 'memory:NAME.')
    assert.is(refusal(() => parseQuarantineLocation('memory:a')).code, 'BAD_QUARANTINE_URI')
    assert.throws(() => registerSink({ ...sinkKinds()[0]!, name: 'kafka2' }), /registered already/)
  } finally {
    remove()
  }
  assert.is(refusal(() => parseSinkLocation('memory:a')).code, 'BAD_SINK_URI')
})

test('services and commands reach sinks and quarantine writers only through the registries, never a concrete class', () => {
  const offenders: string[] = []
  for (const folder of ['src/services', 'commands', 'commands/quarantine', 'commands/audit']) {
    for (const name of readdirSync(join(repoRoot(), folder)).filter((n) => /\.tsx?$/.test(n))) {
      const text = readFileSync(join(repoRoot(), folder, name), 'utf8')
      // Per import statement: a type-only import of a module says nothing about the others.
      for (const m of text.matchAll(/(?:import|export)\s+(type\s+)?[^;'"]*?from\s+['"]([^'"]*\/(?:sinks|quarantine)\/([\w-]+)\.js)['"]/g)) {
        const concrete = ['kafka-sink', 'file-sinks', 'plugin-sink', 'postgres-sink', 'duckdb-sink'].includes(m[3]!) || m[3] === 'quarantine'
        if (concrete && !m[1]) offenders.push(`${folder}/${name} imports ${m[2]}`)
      }
      for (const m of text.matchAll(
        /import\(\s*['"]([^'"]*\/(?:sinks|quarantine)\/(kafka-sink|file-sinks|plugin-sink|postgres-sink|duckdb-sink|quarantine)\.js)['"]/g,
      ))
        offenders.push(`${folder}/${name} imports ${m[1]}`)
    }
  }
  assert.equal(offenders, [])
})

test.run()
