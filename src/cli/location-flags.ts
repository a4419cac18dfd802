import { Flags } from './oclif.js'
import { parseReplaySource, type AnyLocation, type ReplaySourceLocation } from '../core/location.js'
import { parseAuditSink, type AuditSink } from '../core/audit-sink.js'
import { parseEnvelopeFileLocation, parseQuarantineLocation, type EnvelopeFileLocation, type QuarantineLocation } from '../quarantine/quarantine-location.js'
import { parseSinkLocation } from '../sinks/registry.js'

/**
 * Flags that name where records come from or go to, parsed once here with the one location
 * grammar (docs/locations.md), so a command gets a typed location and every command refuses a
 * bad one the same way (BAD_SINK_URI or BAD_QUARANTINE_URI, exit 2, before connecting).
 */

/** Where replayed or retried records go: any sink kind of src/sinks/registry.ts. */
export const sinkLocationFlag = Flags.custom<AnyLocation>({
  helpValue: 'LOCATION',
  parse: async (text, _context, flag) => parseSinkLocation(text, `--${flag.name}`),
})

/** Where dead letters are kept (read or written): kafka:TOPIC or file:PATH.jsonl. */
export const quarantineLocationFlag = Flags.custom<QuarantineLocation>({
  helpValue: 'LOCATION',
  parse: async (text, _context, flag) => parseQuarantineLocation(text, `--${flag.name}`),
})

/** What audit compare reads as the sink: a table, a topic or a file. */
export const auditSinkFlag = Flags.custom<AuditSink>({
  helpValue: 'LOCATION',
  parse: async (text, _context, flag) => parseAuditSink(text, `--${flag.name}`),
})

/** A lossless JSONL envelope file to write. */
export const envelopeFileFlag = Flags.custom<EnvelopeFileLocation>({
  helpValue: 'FILE.jsonl',
  parse: async (text, _context, flag) => parseEnvelopeFileLocation(text, `--${flag.name}`),
})

/** Where a replay reads: file:PATH.jsonl (the lossless envelope) or kafka:TOPIC. */
export const replaySourceFlag = Flags.custom<ReplaySourceLocation>({
  helpValue: 'LOCATION',
  parse: async (text, _context, flag) => parseReplaySource(text, `--${flag.name}`),
})
