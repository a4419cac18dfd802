import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import avro from 'avsc'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecoveryError } from '../../src/errors.js'
import {
  correctAmountCents,
  createRng,
  FIXTURE_KINDS,
  generateIncident,
  INCIDENT_DEFAULTS,
  isDuplicateKind,
  isPoisonKind,
  loadOrderSchemas,
  murmur2,
  partitionForKey,
  truthToJSON,
  type FixtureKind,
  type FixtureRecord,
  type IncidentOptions,
} from '../../src/fixtures/index.js'

const schemas = loadOrderSchemas()
const v1ToV2 = schemas.v2.createResolver(schemas.v1)
const v2ToV2 = schemas.v2.createResolver(schemas.v2)

interface Decoded {
  schemaId: number
  value: Record<string, unknown> & { amount_cents: number; items: Array<{ quantity: number; unit_price_cents: number }> }
}

/** Decodes a Confluent-framed order into today's shape (v2), as a replay would. */
function decodeOrder(value: Buffer): Decoded {
  if (value[0] !== 0) throw new Error(`magic byte ${value[0]}`)
  const schemaId = value.readUInt32BE(1)
  const resolver = schemaId === 1 ? v1ToV2 : schemaId === 2 ? v2ToV2 : undefined
  if (!resolver) throw new Error(`unknown schema id ${schemaId}`)
  return { schemaId, value: schemas.v2.fromBuffer(value.subarray(5), resolver) }
}

function digest(records: Iterable<FixtureRecord>): string {
  const hash = createHash('sha256')
  for (const r of records) {
    hash.update(`${r.partition}|${r.timestampMs}|${r.kind}|${JSON.stringify(r.headers)}|`)
    hash.update(r.key ?? Buffer.alloc(0))
    hash.update('|')
    hash.update(r.value ?? Buffer.alloc(0))
  }
  return hash.digest('hex')
}

const custom: IncidentOptions = {
  seed: 7,
  count: 4_000,
  partitions: 5,
  poisonPills: { truncatedAvro: 1, badMagic: 2, invalidJson: 3, invalidUtf8: 4 },
  duplicates: { identical: 5, changed: 3 },
}

test('the same seed gives byte-identical records and truth, every time they are iterated', () => {
  const a = generateIncident({ seed: 11, count: 3_000 })
  const b = generateIncident({ seed: 11, count: 3_000 })
  const first = digest(a.records)
  assert.is(digest(a.records), first)
  assert.is(digest(b.records), first)
  assert.is(truthToJSON(a.truth), truthToJSON(b.truth))
  assert.is.not(digest(generateIncident({ seed: 12, count: 3_000 }).records), first)
})

test('the default incident is pinned: changing it changes what the demo expects', () => {
  const incident = generateIncident()
  assert.equal(incident.truth.counts, {
    order: 9160,
    'bad-deploy': 826,
    'poison-truncated-avro': 2,
    'poison-bad-magic': 2,
    'poison-invalid-json': 2,
    'poison-invalid-utf8': 2,
    'duplicate-identical': 4,
    'duplicate-changed': 2,
  })
  assert.equal(
    incident.truth.badDeploy.perPartition.map((p) => [p.partition, p.seekOffset, p.endOffset]),
    [
      [0, 1690n, 1959n],
      [1, 1600n, 1883n],
      [2, 1710n, 1991n],
    ],
  )
  assert.equal(
    incident.truth.perPartition.map((p) => p.records),
    [3327, 3284, 3389],
  )
})

test('the defaults are the SPEC example incident', () => {
  const { options } = generateIncident()
  assert.is(options.seed, 42)
  assert.is(options.count, 10_000)
  assert.is(options.partitions, 3)
  assert.is(new Date(options.startMs).toISOString(), '2018-03-20T12:00:00.000Z')
  assert.is(new Date(options.endMs).toISOString(), '2018-03-21T12:00:00.000Z')
  assert.is(new Date(options.badDeploy.startMs).toISOString(), '2018-03-21T00:00:00.000Z')
  assert.is(new Date(options.badDeploy.endMs).toISOString(), '2018-03-21T02:00:00.000Z')
  assert.is(options.badDeploy.factor, 100)
  assert.equal(options.poisonPills, INCIDENT_DEFAULTS.poisonPills)
})

test('counts per kind equal the options and the truth, and the total equals count', () => {
  const incident = generateIncident(custom)
  const seen = Object.fromEntries(FIXTURE_KINDS.map((k) => [k, 0])) as Record<FixtureKind, number>
  let total = 0
  for (const r of incident.records) {
    seen[r.kind]++
    total++
  }
  assert.is(total, 4_000)
  assert.equal(seen, incident.truth.counts)
  assert.is(seen['poison-truncated-avro'], 1)
  assert.is(seen['poison-bad-magic'], 2)
  assert.is(seen['poison-invalid-json'], 3)
  assert.is(seen['poison-invalid-utf8'], 4)
  assert.is(seen['duplicate-identical'], 5)
  assert.is(seen['duplicate-changed'], 3)
  assert.is(seen['bad-deploy'], incident.truth.badDeploy.badDeployRecords)
  assert.ok(seen['bad-deploy'] > 0)
})

test('truth offsets are the offsets records get when produced in order to a fresh topic', () => {
  const incident = generateIncident(custom)
  const { truth, options } = incident
  const next = new Array<number>(options.partitions).fill(0)
  const poison: string[] = []
  const duplicates: string[] = []
  const window = truth.badDeploy.perPartition.map(() => ({ first: -1, last: -1, seek: -1, end: -1, records: 0 }))
  for (const r of incident.records) {
    const offset = next[r.partition]!++
    const w = window[r.partition]!
    if (r.timestampMs >= options.badDeploy.startMs && w.seek < 0) w.seek = offset
    if (r.timestampMs >= options.badDeploy.endMs && w.end < 0) w.end = offset
    if (r.timestampMs >= options.badDeploy.startMs && r.timestampMs < options.badDeploy.endMs) {
      if (w.first < 0) w.first = offset
      w.last = offset
      w.records++
    }
    if (isPoisonKind(r.kind)) poison.push(`${r.kind}@${r.partition}:${offset}:${r.timestampMs}:${r.key!.toString()}`)
    if (isDuplicateKind(r.kind)) duplicates.push(`${r.kind}@${r.partition}:${offset}:${r.timestampMs}:${r.key!.toString()}`)
  }
  assert.equal(
    truth.perPartition.map((p) => p.records),
    next,
  )
  assert.equal(
    truth.perPartition.map((p) => p.logEndOffset),
    next.map(BigInt),
  )
  assert.equal(
    truth.poisonPills.map((p) => `${p.kind}@${p.partition}:${p.offset}:${p.timestampMs}:${p.key}`),
    poison,
  )
  assert.equal(
    truth.duplicates.map((d) => `${d.kind}@${d.partition}:${d.offset}:${d.timestampMs}:${d.key}`),
    duplicates,
  )
  truth.badDeploy.perPartition.forEach((p, i) => {
    const w = window[i]!
    assert.is(p.seekOffset, BigInt(w.seek < 0 ? next[i]! : w.seek))
    assert.is(p.endOffset, BigInt(w.end < 0 ? next[i]! : w.end))
    assert.is(p.firstOffset, w.first < 0 ? null : BigInt(w.first))
    assert.is(p.lastOffset, w.last < 0 ? null : BigInt(w.last))
    assert.is(p.records, w.records)
  })
  assert.is(
    truth.badDeploy.records,
    window.reduce((s, w) => s + w.records, 0),
  )
})

test('half of each poison kind and of each duplicate kind (rounded up) lands in the bad-deploy window', () => {
  const { truth } = generateIncident(custom)
  const inWindow = (kind: FixtureKind): number => [...truth.poisonPills, ...truth.duplicates].filter((x) => x.kind === kind && x.inBadDeployWindow).length
  assert.is(inWindow('poison-truncated-avro'), 1)
  assert.is(inWindow('poison-bad-magic'), 1)
  assert.is(inWindow('poison-invalid-json'), 2)
  assert.is(inWindow('poison-invalid-utf8'), 2)
  assert.is(inWindow('duplicate-identical'), 3)
  assert.is(inWindow('duplicate-changed'), 2)
  assert.is(truth.badDeploy.poisonPills, 6)
  assert.is(truth.badDeploy.duplicates, 5)
})

test('timestamps never decrease within a partition and stay inside [startMs, endMs)', () => {
  const { records, options } = generateIncident(custom)
  const last = new Array<number>(options.partitions).fill(-Infinity)
  for (const r of records) {
    assert.ok(r.timestampMs >= last[r.partition]!, `partition ${r.partition} went back in time`)
    assert.ok(r.timestampMs >= options.startMs && r.timestampMs < options.endMs)
    last[r.partition] = r.timestampMs
  }
})

test('the partition is Kafka default partitioner of the UTF-8 order id key', () => {
  // Vectors from Apache Kafka's UtilsTest.testMurmur2.
  assert.is(murmur2(Buffer.from('21')), -973932308)
  assert.is(murmur2(Buffer.from('foobar')), -790332482)
  assert.is(murmur2(Buffer.from('a-little-bit-long-string')), -985981536)
  assert.is(murmur2(Buffer.from('a-little-bit-longer-string')), -1486304829)
  assert.is(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')), -58897971)
  assert.is(murmur2(Buffer.from('abc')), 479470107)
  for (const r of generateIncident(custom).records) {
    assert.ok(/^ord-\d{7}$/.test(r.key!.toString('utf8')))
    assert.is(r.partition, partitionForKey(r.key!, 5))
  }
})

test('orders carry a correct amount; bad-deploy orders carry exactly factor times it', () => {
  const incident = generateIncident(custom)
  const factor = incident.options.badDeploy.factor
  let bad = 0
  for (const r of incident.records) {
    if (isPoisonKind(r.kind)) continue
    const { value } = decodeOrder(r.value!)
    const correct = correctAmountCents(value.items)
    const inWindow = r.timestampMs >= incident.options.badDeploy.startMs && r.timestampMs < incident.options.badDeploy.endMs
    assert.is(value.amount_cents, inWindow ? correct * factor : correct, `${r.kind} ${value.order_id}`)
    if (r.kind === 'bad-deploy') {
      assert.ok(inWindow)
      assert.is(value.amount_cents / factor, correct)
      bad++
    }
  }
  assert.is(bad, incident.truth.badDeploy.badDeployRecords)
})

test('the bad deploy only multiplies amounts: with factor 1 every other byte is the same', () => {
  const broken = [...generateIncident({ ...custom, count: 2_000 }).records]
  const fixed = [...generateIncident({ ...custom, count: 2_000, badDeploy: { factor: 1 } }).records]
  assert.is(broken.length, fixed.length)
  broken.forEach((b, i) => {
    const f = fixed[i]!
    assert.is(b.kind, f.kind)
    assert.equal(b.key, f.key)
    assert.is(b.timestampMs, f.timestampMs)
    assert.equal(b.headers, f.headers)
    const inWindow = inDefaultWindow(b)
    if (isPoisonKind(b.kind)) {
      // Poison pills are spoiled orders: in the window, spoiled bad orders.
      if (!inWindow) assert.ok(b.value!.equals(f.value!))
      return
    }
    const bo = decodeOrder(b.value!).value
    const fo = decodeOrder(f.value!).value
    assert.is(bo.amount_cents, inWindow ? fo.amount_cents * 100 : fo.amount_cents)
    assert.equal({ ...bo, amount_cents: 0 }, { ...fo, amount_cents: 0 })
  })
})

function inDefaultWindow(r: FixtureRecord): boolean {
  return r.timestampMs >= INCIDENT_DEFAULTS.badDeploy.startMs && r.timestampMs < INCIDENT_DEFAULTS.badDeploy.endMs
}

test('identical duplicates repeat their original byte for byte; changed ones keep the key and change the value', () => {
  const incident = generateIncident(custom)
  const records = [...incident.records]
  const byOffset = new Map<string, FixtureRecord>()
  const next = new Array<number>(incident.options.partitions).fill(0)
  for (const r of records) byOffset.set(`${r.partition}:${next[r.partition]!++}`, r)
  assert.is(incident.truth.duplicates.length, 8)
  for (const d of incident.truth.duplicates) {
    const dup = byOffset.get(`${d.partition}:${d.offset}`)!
    const original = byOffset.get(`${d.partition}:${d.original.offset}`)!
    assert.is(dup.kind, d.kind)
    assert.is(original.kind, d.original.kind)
    assert.ok(d.original.offset < d.offset)
    assert.equal(dup.key, original.key)
    assert.is(d.key, original.key!.toString())
    assert.is(decodeOrder(dup.value!).schemaId, d.schemaId)
    if (d.kind === 'duplicate-identical') {
      assert.ok(dup.value!.equals(original.value!))
      assert.equal(dup.headers, original.headers)
    } else {
      assert.not.ok(dup.value!.equals(original.value!))
      const a = decodeOrder(dup.value!).value
      const b = decodeOrder(original.value!).value
      assert.is.not(a.status, b.status)
      assert.equal({ ...a, status: '' }, { ...b, status: '' })
    }
  }
})

test('each poison pill fails to decode exactly the way its kind says', () => {
  const incident = generateIncident(custom)
  const utf8 = new TextDecoder('utf-8', { fatal: true })
  let checked = 0
  for (const r of incident.records) {
    if (!isPoisonKind(r.kind)) continue
    checked++
    const value = r.value!
    assert.throws(() => decodeOrder(value), undefined, `${r.kind} must not decode as an order`)
    switch (r.kind) {
      case 'poison-truncated-avro': {
        assert.is(value[0], 0)
        const type = schemas.byId.get(value.readUInt32BE(1))
        assert.ok(type, 'a known schema id')
        assert.throws(() => type!.fromBuffer(value.subarray(5)), /truncated/)
        break
      }
      case 'poison-bad-magic':
        assert.is.not(value[0], 0)
        // Behind the wrong magic byte sits an otherwise valid order.
        assert.ok(decodeOrder(Buffer.concat([Buffer.from([0]), value.subarray(1)])))
        break
      case 'poison-invalid-json':
        assert.is(value[0], '{'.charCodeAt(0))
        utf8.decode(value)
        assert.throws(() => JSON.parse(value.toString('utf8')))
        break
      case 'poison-invalid-utf8':
        assert.throws(() => utf8.decode(value))
        break
    }
  }
  assert.is(checked, 10)
})

test('v1 records decode with the v2 reader schema through a resolver', () => {
  const incident = generateIncident({ count: 2_000 })
  let v1 = 0
  let v2 = 0
  for (const r of incident.records) {
    if (isPoisonKind(r.kind)) continue
    const decoded = decodeOrder(r.value!)
    const original = r.timestampMs < incident.options.schemaV2FromMs
    if (decoded.schemaId === 1) {
      v1++
      const raw = schemas.v1.fromBuffer(r.value!.subarray(5))
      assert.is(decoded.value.customer, raw.customer_id)
      assert.is(decoded.value.channel, 'web')
      assert.equal(
        decoded.value.items.map((i) => i.quantity),
        raw.items.map((i: { quantity: number }) => i.quantity),
      )
      if (!isDuplicateKind(r.kind)) assert.ok(original)
    } else {
      v2++
      if (!isDuplicateKind(r.kind)) assert.not.ok(original)
    }
  }
  assert.ok(v1 > 0 && v2 > 0)
  assert.equal(incident.truth.ordersBySchemaId, { '1': v1, '2': v2 })
})

test('the schema files match ids.json and v2 is a compatible evolution of v1', () => {
  assert.equal(schemas.ids, { '1': 'orders-v1.avsc', '2': 'orders-v2.avsc' })
  const v2 = schemas.v2.schema({ exportAttrs: true }) as { name: string; fields: Array<{ name: string; aliases?: string[]; default?: unknown }> }
  assert.is(v2.name, 'com.example.shop.Order')
  assert.equal(v2.fields.find((f) => f.name === 'customer')?.aliases, ['customer_id'])
  assert.is(v2.fields.find((f) => f.name === 'channel')?.default, 'web')
  // The files themselves resolve v1 into v2 (createResolver throws on incompatibility).
  const file = (name: string) => avro.Type.forSchema(JSON.parse(readFileSync(join(schemas.dir, name), 'utf8')))
  assert.ok(file('orders-v2.avsc').createResolver(file('orders-v1.avsc')))
})

test('records carry app-version and trace-id headers, never their kind', () => {
  for (const r of generateIncident(custom).records) {
    assert.equal(Object.keys(r.headers).sort(), ['app-version', 'trace-id'])
    assert.not.ok(Object.values(r.headers).some((v) => v.includes(r.kind)))
  }
})

test('invalid options are refused with a usage error', () => {
  const refused = (options: IncidentOptions): void => {
    try {
      generateIncident(options)
    } catch (error) {
      assert.instance(error, RecoveryError)
      assert.is((error as RecoveryError).code, 'USAGE')
      return
    }
    assert.unreachable(`accepted ${JSON.stringify(options)}`)
  }
  refused({ count: 0 })
  refused({ partitions: 0 })
  refused({ count: 10 })
  refused({ startMs: 10, endMs: 5 })
  refused({ poisonPills: { badMagic: -1 } })
  refused({ badDeploy: { factor: 0.5 } })
})

test('a window outside the timeline puts every special record outside it', () => {
  const { truth } = generateIncident({ count: 500, badDeploy: { startMs: Date.parse('2030-01-01T00:00:00Z'), endMs: Date.parse('2030-01-01T02:00:00Z') } })
  assert.is(truth.counts['bad-deploy'], 0)
  assert.is(truth.badDeploy.records, 0)
  assert.ok(truth.poisonPills.every((p) => !p.inBadDeployWindow))
  assert.equal(
    truth.badDeploy.perPartition.map((p) => p.seekOffset),
    truth.perPartition.map((p) => p.logEndOffset),
  )
})

test('the generator is seeded: the same seed draws the same numbers', () => {
  const a = createRng(42)
  const b = createRng(42)
  const drawn = Array.from({ length: 5 }, () => a.int(1_000_000))
  assert.equal(
    Array.from({ length: 5 }, () => b.int(1_000_000)),
    drawn,
  )
  assert.is.not(createRng(43).int(1_000_000), drawn[0])
})

test.run()
