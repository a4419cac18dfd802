import { Flags } from './oclif.js'

/** --drop-header, --keep-header, --set-header: the same on replay and quarantine redrive. */
export const headerRuleFlags = {
  'drop-header': Flags.string({
    summary: "Remove headers whose name matches (glob: * any characters, ? one; repeatable), e.g. --drop-header 'x-debug-*'.",
    multiple: true,
    helpGroup: 'HEADERS',
  }),
  'keep-header': Flags.string({
    summary: 'Keep only headers whose name matches one of these globs (repeatable); applied after --drop-header.',
    multiple: true,
    helpGroup: 'HEADERS',
  }),
  'set-header': Flags.string({
    summary: 'Set a header NAME=VALUE (UTF-8; repeatable): every header of that name is replaced by this one, added last.',
    multiple: true,
    helpGroup: 'HEADERS',
  }),
}

/** replay's provenance header, on unless --no-provenance-headers. */
export const provenanceFlag = {
  'provenance-headers': Flags.boolean({
    summary:
      'Add recover.replayed-from=TOPIC/PARTITION@OFFSET (where the record was read) to every record written to a sink that keeps headers (Kafka). --no-provenance-headers writes the headers exactly as read.',
    default: true,
    allowNo: true,
    helpGroup: 'HEADERS',
  }),
}
