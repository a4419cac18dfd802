import { parseLocationAs, type AnyLocation, type FileLocation, type KafkaLocation, type LocationRole } from '../core/location.js'
import type { KafkaGateway } from '../kafka/kafka-gateway.js'
import type { Quarantine } from './quarantine.js'

/** Where dead letters are kept: a topic, or recover's lossless JSONL envelope file. */
export type QuarantineLocation = KafkaLocation | EnvelopeFileLocation

export type EnvelopeFileLocation = FileLocation & { format: 'jsonl' }

/** Why each other location cannot hold dead letters, which must come back byte for byte and be appended to. */
function refusal(location: AnyLocation): string {
  if (location.kind !== 'file') return location.kind === 'plugin' ? 'a quarantine cannot be a plugin' : 'a quarantine must be Kafka or a JSONL file'
  const file = location as FileLocation
  if (file.format === 'csv' || file.format === 'tsv') return 'a quarantine must be lossless, and CSV is not'
  if (file.format === 'parquet') return 'a quarantine must be lossless and appendable, and Parquet is neither'
  if (file.compression) return 'a quarantine file is not compressed'
  return 'the file must be a .jsonl envelope file'
}

function isEnvelopeFile(location: AnyLocation): location is EnvelopeFileLocation {
  return location.kind === 'file' && (location as FileLocation).format === 'jsonl' && (location as FileLocation).compression === undefined
}

const QUARANTINE_ROLE: LocationRole<QuarantineLocation> = {
  code: 'BAD_QUARANTINE_URI',
  forms: 'kafka:TOPIC or file:PATH.jsonl',
  fileRule: 'the file must be a .jsonl envelope file',
  accept: (location) => (location.kind === 'kafka' || isEnvelopeFile(location) ? (location as QuarantineLocation) : { refused: refusal(location) }),
}

const ENVELOPE_FILE_ROLE: LocationRole<EnvelopeFileLocation> = {
  code: 'BAD_QUARANTINE_URI',
  forms: 'file:PATH.jsonl (or PATH.jsonl)',
  fileRule: 'the file must be a .jsonl envelope file',
  accept: (location) => (isEnvelopeFile(location) ? location : { refused: location.kind === 'kafka' ? 'this writes a file, not a topic' : refusal(location) }),
}

/** Where dead letters are read or written: --dlq, --quarantine, --parking. BAD_QUARANTINE_URI otherwise. */
export function parseQuarantineLocation(text: string, flag = '--quarantine'): QuarantineLocation {
  return parseLocationAs(text, flag, QUARANTINE_ROLE)
}

/** A lossless envelope file to write (quarantine export --output). */
export function parseEnvelopeFileLocation(text: string, flag = '--output'): EnvelopeFileLocation {
  return parseLocationAs(text, flag, ENVELOPE_FILE_ROLE)
}

/** A quarantine given parsed (a command's flag) or as text (library callers): parsed once, here. */
export function toQuarantineLocation(quarantine: QuarantineLocation | string, flag = '--quarantine'): QuarantineLocation {
  return typeof quarantine === 'string' ? parseQuarantineLocation(quarantine, flag) : quarantine
}

/** A replay's default quarantine: kafka:<topic>.quarantine. */
export function defaultQuarantineFor(topic: string): QuarantineLocation {
  return parseQuarantineLocation(`kafka:${topic}.quarantine`)
}

interface QuarantineKind {
  /** Several --scale-out processes can write to it at once. */
  shareable: boolean
  create(location: QuarantineLocation, context: { gateway: KafkaGateway; partitions: number }): Promise<Quarantine>
}

/** The kinds of quarantine, keyed by scheme. */
const QUARANTINE_KINDS: Record<QuarantineLocation['kind'], QuarantineKind> = {
  kafka: {
    shareable: true,
    async create(location, { gateway, partitions }) {
      const { KafkaQuarantine } = await import('./quarantine.js')
      return new KafkaQuarantine(gateway, (location as KafkaLocation).topic, partitions)
    },
  },
  file: {
    shareable: false,
    async create(location, { gateway }) {
      const { FileQuarantine } = await import('./quarantine.js')
      return new FileQuarantine((location as EnvelopeFileLocation).path, gateway.cluster)
    },
  },
}

export function quarantineIsShareable(location: QuarantineLocation): boolean {
  return QUARANTINE_KINDS[location.kind].shareable
}

/** Builds the quarantine writer a location names (open() is the caller's). */
export function createQuarantine(location: QuarantineLocation, context: { gateway: KafkaGateway; partitions: number }): Promise<Quarantine> {
  return QUARANTINE_KINDS[location.kind].create(location, context)
}
