import { isDecodeError, isEncodeError } from '../codecs/decode-error.js'
import { decodeJson } from '../codecs/json-codec.js'
import type { DirectLines } from '../sinks/json-copy-text.js'
import type { RecordFailure } from '../core/failure-rate.js'
import type { KafkaRecord } from '../kafka/kafka-record.js'
import type { ReplayRecord, SinkRecord } from '../plugin-api.js'
import type { PreparedWrite, Sink } from '../sinks/sink.js'
import type { QuarantineEntry } from '../quarantine/quarantine.js'
import { yieldToEventLoop } from '../core/yield.js'
import type { DrySample } from './replay-events.js'
import type { Stages } from './stages.js'
import type { WorkInputs } from './work-batch.js'

export type Outcome = 'written' | 'dropped' | 'quarantined'

/** Records decoded between two turns of the event loop (a millisecond or so of JSON). */
const YIELD_EVERY_RECORDS = 1000

/** A batch decoded, transformed and encoded: what the sink gets, what goes to quarantine. */
export interface PreparedBatch extends WorkInputs {
  outcome: Outcome[]
  quarantine: QuarantineEntry[]
  outputs: SinkRecord[]
  /** For each output, the index of the input it came from. */
  outputOwner: number[]
  /** The outputs in the sink's own form (Sink.prepare), which then stands in for them: `outputs` is emptied. */
  sinkWrite?: PreparedWrite
  /** Lines the sink made straight from outputs' JSON bytes while they were read (Sink.directJson), for Sink.prepare. */
  direct?: DirectLines
}

/**
 * Hands the outputs to the sink to make its own form of them now, in the CPU stage, if it
 * can: the outputs (and the values decoded for them) are let go of, so they do not live on,
 * and get moved by the garbage collector, while the batch before is still being written.
 */
export async function prepareForSink(prepared: PreparedBatch, sink: Sink): Promise<void> {
  if (!sink.prepare || prepared.outputs.length === 0) return
  const sinkWrite = await sink.prepare(prepared.outputs, prepared.direct)
  prepared.direct = undefined
  if (!sinkWrite) return
  prepared.sinkWrite = sinkWrite
  prepared.outputs = []
}

/**
 * Decode → transform → encode for one batch. No writes: those are writeBatch's. `sink`: the sink
 * the batch goes to, when it may make its own form of JSON values straight from their bytes.
 */
export async function prepareBatch(
  work: WorkInputs,
  stages: Stages,
  dry: { sample: DrySample[]; limit: number } | undefined,
  sink?: Pick<Sink, 'directJson'>,
): Promise<PreparedBatch> {
  if (stages.passThrough && !dry) return forward(work)
  if (!stages.transform && !dry) return decodeOnly(work, stages, stages.formats.value === 'json' ? sink : undefined)
  const { codecs, transform, encoders } = stages
  const inputs = work.inputs
  const prepared: PreparedBatch = { ...work, outcome: new Array<Outcome>(inputs.length), quarantine: [], outputs: [], outputOwner: [] }
  const { outcome, quarantine, outputs, outputOwner } = prepared
  const transformInfo = transform ? { name: transform.name, version: transform.version } : undefined
  const quarantineAt = (i: number, entry: Omit<QuarantineEntry, 'record' | 'transform'>) => {
    outcome[i] = 'quarantined'
    quarantine.push({ ...entry, record: inputs[i]!, transform: transformInfo })
  }

  // Registry lookups for the whole batch first: an unreachable registry stops the replay here
  // (exit 5) before any record of the batch is blamed.
  await codecs.key.prepare(inputs.map((r) => r.key))
  await codecs.value.prepare(inputs.map((r) => r.value))
  if (encoders) {
    await encoders.key.prepare(inputs.map((r) => r.key))
    await encoders.value.prepare(inputs.map((r) => r.value))
  }

  // Decode every record first, then transform the decoded ones in one guarded run (the
  // transform's watchdog is per chunk of calls, not per record), then encode in input order.
  const decoded = new Array<ReplayRecord | Omit<QuarantineEntry, 'record' | 'transform'>>(inputs.length)
  const toTransform: ReplayRecord[] = []
  for (let i = 0; i < inputs.length; i++) {
    if (i % YIELD_EVERY_RECORDS === YIELD_EVERY_RECORDS - 1) await yieldToEventLoop()
    const r = inputs[i]!
    const keyBytes = r.key
    const valueBytes = r.value
    let key: unknown = null
    let value: unknown = null
    try {
      key = keyBytes === null ? null : codecs.key.decode(keyBytes)
    } catch (error) {
      if (!isDecodeError(error)) throw error
      decoded[i] = { stage: 'decode', error, kind: error.kind, side: 'key' }
      continue
    }
    try {
      value = valueBytes === null ? null : codecs.value.decode(valueBytes)
    } catch (error) {
      if (!isDecodeError(error)) throw error
      decoded[i] = { stage: 'decode', error, kind: error.kind, side: 'value' }
      continue
    }
    const input: ReplayRecord = {
      key,
      value,
      headers: r.headers,
      timestamp: r.timestampMs,
      timestampType: r.timestampType,
      source: { topic: r.topic, partition: r.partition, offset: r.offset },
    }
    decoded[i] = input
    toTransform.push(input)
  }
  const transformed = transform ? await transform.applyAll(toTransform) : undefined
  let t = 0

  for (let i = 0; i < inputs.length; i++) {
    if (i % YIELD_EVERY_RECORDS === YIELD_EVERY_RECORDS - 1) await yieldToEventLoop()
    const r = inputs[i]!
    const d = decoded[i]!
    if (!('source' in d)) {
      quarantineAt(i, d)
      if (dry) addSample(dry, r, null, [], quarantine.at(-1))
      continue
    }
    const input = d
    let produced: ReplayRecord[]
    if (transformed) {
      const result = transformed[t++]!
      if (!result.ok) {
        quarantineAt(i, { stage: 'transform', error: result.error })
        if (dry) addSample(dry, r, input, [], quarantine.at(-1))
        continue
      }
      produced = result.outputs
    } else {
      produced = [input]
    }
    if (dry) {
      outcome[i] = produced.length === 0 ? 'dropped' : 'written'
      // The sample shows the headers as the sink would get them (--drop-header, --set-header, …).
      const headers = stages.headers
      addSample(dry, r, input, headers ? produced.map((o) => ({ ...o, headers: headers(o.headers, input.source) })) : produced, undefined)
      continue
    }
    if (produced.length === 0) {
      outcome[i] = 'dropped'
      continue
    }
    if (!transform) {
      // Without a transform the bytes go out exactly as they came in.
      outcome[i] = 'written'
      outputs.push({
        key: r.key,
        value: r.value,
        decodedKey: input.key,
        decodedValue: input.value,
        headers: r.headers,
        timestamp: r.timestampMs,
        timestampType: r.timestampType,
        source: input.source,
      })
      outputOwner.push(i)
      continue
    }
    // Straight into the outputs; taken back out if one of the record's outputs cannot be encoded.
    const first = outputs.length
    let failed = false
    for (const o of produced) {
      try {
        outputs.push({
          key: encoders!.key.encode(o.key, r.key),
          value: encoders!.value.encode(o.value, r.value),
          decodedKey: o.key,
          decodedValue: o.value,
          headers: o.headers,
          timestamp: o.timestamp,
          timestampType: o.timestampType,
          source: input.source,
        })
        outputOwner.push(i)
      } catch (error) {
        if (!isEncodeError(error)) throw error
        quarantineAt(i, { stage: 'sink', error, kind: error.kind })
        failed = true
        break
      }
    }
    if (failed) {
      outputs.length = first
      outputOwner.length = first
      continue
    }
    outcome[i] = 'written'
  }
  return prepared
}

/**
 * Bytes in, bytes out, nothing in between: every record is written as it was read, with the
 * buffers it was read with (decoding bytes as bytes would give them back unchanged, and no
 * transform can drop or fail a record). Only the sink can still refuse one.
 */
function forward(work: WorkInputs): PreparedBatch {
  const inputs = work.inputs
  const count = inputs.length
  const outputs = new Array<SinkRecord>(count)
  const outputOwner = new Array<number>(count)
  for (let i = 0; i < count; i++) {
    const r = inputs[i]!
    const key = r.key
    const value = r.value
    outputs[i] = {
      key,
      value,
      decodedKey: key,
      decodedValue: value,
      headers: r.headers,
      timestamp: r.timestampMs,
      timestampType: r.timestampType,
      source: { topic: r.topic, partition: r.partition, offset: r.offset },
    }
    outputOwner[i] = i
  }
  return { ...work, outcome: new Array<Outcome>(count).fill('written'), quarantine: [], outputs, outputOwner }
}

/**
 * Decode only (no transform, not a dry run): what the full path does when nothing transforms,
 * without the transform's intermediate record: each record is decoded straight into what the
 * sink gets, its bytes going out exactly as they came in.
 */
async function decodeOnly(work: WorkInputs, stages: Stages, sink: Pick<Sink, 'directJson'> | undefined): Promise<PreparedBatch> {
  const { key: keys, value: values } = stages.codecs
  const inputs = work.inputs
  const count = inputs.length
  // Registry lookups for the whole batch first: an unreachable registry stops the replay here
  // (exit 5) before any record of the batch is blamed.
  await keys.prepare(inputs.map((r) => r.key))
  await values.prepare(inputs.map((r) => r.value))
  const outcome = new Array<Outcome>(count)
  const quarantine: QuarantineEntry[] = []
  const outputs: SinkRecord[] = []
  const outputOwner: number[] = []
  const text = count > 0 ? sink?.directJson?.(work.bytes + count * 64) : undefined
  const lineOf = text ? new Int32Array(count).fill(-1) : undefined
  for (let i = 0; i < count; i++) {
    // Now and then the write in flight gets its answers read (see yieldToEventLoop).
    if (i % YIELD_EVERY_RECORDS === YIELD_EVERY_RECORDS - 1) await yieldToEventLoop()
    const r = inputs[i]!
    const key = r.key
    const value = r.value
    let side: 'key' | 'value' = 'key'
    try {
      const decodedKey = key === null ? null : keys.decode(key)
      side = 'value'
      const line = text && value !== null ? text.append(value, r.topic, r.partition, r.offset) : -1
      if (line >= 0) {
        lineOf![outputs.length] = line
        outputs.push(new DirectJsonRecord(r, decodedKey))
      } else {
        const decodedValue = value === null ? null : values.decode(value)
        outputs.push({
          key,
          value,
          decodedKey,
          decodedValue,
          headers: r.headers,
          timestamp: r.timestampMs,
          timestampType: r.timestampType,
          source: { topic: r.topic, partition: r.partition, offset: r.offset },
        })
      }
      outputOwner.push(i)
      outcome[i] = 'written'
    } catch (error) {
      if (!isDecodeError(error)) throw error
      outcome[i] = 'quarantined'
      quarantine.push({ stage: 'decode', error, kind: error.kind, side, record: r, transform: undefined })
    }
  }
  return { ...work, outcome, quarantine, outputs, outputOwner, direct: text && lineOf && text.lines > 0 ? { text, lineOf } : undefined }
}

const NOT_DECODED = Symbol('not decoded')

/**
 * A record whose JSON value the sink took as bytes (Sink.directJson): a view of the record as
 * read, with no copy of its fields and no provenance object unless asked for; its value is
 * decoded only if something still asks for it (the sink's general path, after a failed
 * prepare), and then as the JSON codec would have (the sink only takes values that are valid JSON).
 */
class DirectJsonRecord implements SinkRecord {
  private decoded: unknown = NOT_DECODED
  private provenance: SinkRecord['source'] | undefined
  private replacedHeaders: SinkRecord['headers'] | undefined

  constructor(
    private readonly record: KafkaRecord,
    readonly decodedKey: unknown,
  ) {}

  get key(): Buffer | null {
    return this.record.key
  }

  get value(): Buffer {
    return this.record.value!
  }

  get timestamp(): number {
    return this.record.timestampMs
  }

  get timestampType(): SinkRecord['timestampType'] {
    return this.record.timestampType
  }

  get source(): SinkRecord['source'] {
    const r = this.record
    this.provenance ??= { topic: r.topic, partition: r.partition, offset: r.offset }
    return this.provenance
  }

  get headers(): SinkRecord['headers'] {
    return this.replacedHeaders ?? this.record.headers
  }

  set headers(headers: SinkRecord['headers']) {
    this.replacedHeaders = headers
  }

  get decodedValue(): unknown {
    if (this.decoded === NOT_DECODED) this.decoded = decodeJson(this.value)
    return this.decoded
  }

  set decodedValue(value: unknown) {
    this.decoded = value
  }
}

/** Each input of a prepared batch: how it failed (decode, transform, encode, sink), or undefined. */
export function failuresOf(prepared: PreparedBatch): Array<RecordFailure | undefined> {
  const entries = new Map(prepared.quarantine.map((e) => [e.record, e]))
  return prepared.inputs.map((r, i) => {
    const e = prepared.outcome[i] === 'quarantined' ? entries.get(r) : undefined
    if (!e) return undefined
    const kind =
      e.stage === 'decode'
        ? e.side === 'key'
          ? 'decode-key'
          : 'decode-value'
        : e.stage === 'transform'
          ? 'transform'
          : isEncodeError(e.error)
            ? 'encode'
            : 'sink'
    return { kind, message: e.error.message, detail: e.kind }
  })
}

function headersForDisplay(headers: ReplayRecord['headers']): Array<{ key: string; value: string | null }> {
  return headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('utf8') }))
}

function addSample(
  dry: { sample: DrySample[]; limit: number },
  r: KafkaRecord,
  input: ReplayRecord | null,
  outputs: ReplayRecord[],
  q: QuarantineEntry | undefined,
): void {
  if (dry.sample.length >= dry.limit) return
  dry.sample.push({
    source: { partition: r.partition, offset: r.offset, timestamp: new Date(r.timestampMs).toISOString() },
    before: input ? { key: input.key, value: input.value, headers: headersForDisplay(input.headers) } : null,
    outcome: q ? 'quarantined' : outputs.length === 0 ? 'dropped' : 'written',
    after: outputs.map((o) => ({ key: o.key, value: o.value, headers: headersForDisplay(o.headers), timestamp: new Date(o.timestamp).toISOString() })),
    quarantine: q ? { stage: q.stage, errorClass: q.error.name, message: q.error.message, kind: q.kind } : undefined,
  })
}
