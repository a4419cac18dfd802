import { Flags } from '@oclif/core'
import { hostname, userInfo } from 'node:os'
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { BaseCommand } from '../src/cli/base-command.js'
import { connectionFlags } from '../src/cli/shared-flags.js'
import { RecoveryError } from '../src/errors.js'
import { redactText } from '../src/config/redact.js'
import type { SeekPlan, SeekApplyResult, SeekRequest, SeekScope } from '../src/services/seek.js'
import type { SeekMode } from '../src/core/seek-plan.js'

const MODES = ['to', 'to-earliest', 'to-latest', 'to-offset', 'shift-by', 'by-duration', 'from-file', 'undo']

export interface SeekResult {
  plan: SeekPlan
  applied: boolean
  execution?: SeekApplyResult
  undoCommands?: string[]
  exported?: string
}

export default class Seek extends BaseCommand<SeekResult> {
  static override summary = 'Move a consumer group to a point in time, safely: a dry-run plan first, a journal and undo.'
  static override description = `Exactly one mode per run. Without --execute nothing changes: the plan shows, per partition, the current and new offset, how many records will be replayed or skipped, and the timestamp of the record at the new offset. New offsets follow Apache Kafka's own rules (kafka-consumer-groups.sh --reset-offsets): the earliest offset whose timestamp is at or after TIME, the log end where no record is that late, and offsets clamped to the log start and end.

A time without a zone is UTC unless --tz is given; the plan prints the resolved instant. Before --execute changes anything, the previous offsets are written to the journal (.recover/journal/ or --journal), and the exact undo command is printed.

Scope: by default every partition of the topics the group has committed offsets for; --all-topics for exactly the partitions it committed; or --topic t / --topic t:0,2 (repeatable).`
  static override examples = [
    { description: 'Plan moving a group back to the start of an incident (dry run)', command: '<%= config.bin %> seek --group billing --to 2018-03-21T00:00' },
    { description: 'Apply it', command: '<%= config.bin %> seek --group billing --to 2018-03-21T00:00 --execute' },
    { description: 'Say "dry run" explicitly (the same as leaving out --execute)', command: '<%= config.bin %> seek --group billing --to 2018-03-21T00:00 --dry-run' },
    { description: 'A local time in Seoul', command: '<%= config.bin %> seek --group billing --to "2018-03-21 09:00" --tz Asia/Seoul' },
    { description: 'Two hours back from now, one topic, partitions 0 and 2', command: '<%= config.bin %> seek --group billing --by-duration PT2H --topic orders:0,2' },
    { description: 'Skip one poison pill on partition 3', command: '<%= config.bin %> seek --group billing --topic orders:3 --shift-by 1 --execute' },
    { description: 'Export the plan in kafka-consumer-groups.sh --from-file format', command: '<%= config.bin %> seek --group billing --to-earliest --export plan.csv' },
    { description: 'Apply a plan file', command: '<%= config.bin %> seek --group billing --from-file plan.csv --execute --yes' },
    { description: 'Undo the last change to the group', command: '<%= config.bin %> seek --group billing --undo --execute' },
  ]
  static override flags = {
    ...connectionFlags,
    group: Flags.string({ char: 'g', summary: 'Consumer group (repeatable).', required: true, multiple: true }),
    to: Flags.string({ summary: 'TIME: ISO-8601 (UTC unless zoned or --tz), a date, epoch ms, or relative like -2h.', helpGroup: 'MODE', exactlyOne: MODES }),
    'to-earliest': Flags.boolean({ summary: 'The log start of each partition.', helpGroup: 'MODE', exactlyOne: MODES }),
    'to-latest': Flags.boolean({ summary: 'The log end of each partition (skip everything unread).', helpGroup: 'MODE', exactlyOne: MODES }),
    'to-offset': Flags.string({ summary: 'This offset in every partition, clamped to the log.', helpGroup: 'MODE', exactlyOne: MODES }),
    'shift-by': Flags.string({ summary: '±N records from the current offset, clamped (write --shift-by=-100 for negative).', helpGroup: 'MODE', exactlyOne: MODES }),
    'by-duration': Flags.string({ summary: 'DURATION back from now, e.g. PT2H or 90m.', helpGroup: 'MODE', exactlyOne: MODES }),
    'from-file': Flags.string({ summary: 'A CSV plan: topic,partition,offset or group,topic,partition,offset.', helpGroup: 'MODE', exactlyOne: MODES }),
    undo: Flags.boolean({ summary: 'Restore the newest journal snapshot of the group.', helpGroup: 'MODE', exactlyOne: MODES }),
    topic: Flags.string({ char: 't', summary: 'Topic, optionally with partitions: orders or orders:0,2 (repeatable).', multiple: true, exclusive: ['all-topics'] }),
    'all-topics': Flags.boolean({ summary: 'Exactly the partitions the group has committed offsets for.', exclusive: ['topic'] }),
    execute: Flags.boolean({ summary: 'Apply the plan (asks on a terminal: no exits 4, changing nothing; needs --yes otherwise).', exclusive: ['dry-run'] }),
    'dry-run': Flags.boolean({ summary: 'Only show the plan: what seek does without --execute, said explicitly (for scripts and runbooks).', exclusive: ['execute'] }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation.' }),
    export: Flags.string({ summary: 'Write the plan as CSV for kafka-consumer-groups.sh --from-file.' }),
    'wait-empty': Flags.string({ summary: 'Wait up to DURATION for the group to have no members instead of refusing.' }),
    tz: Flags.string({ summary: 'Zone for times without one: an IANA zone (Asia/Seoul), UTC, or local.' }),
    journal: Flags.string({ summary: 'Journal folder.', default: '.recover/journal' }),
  }

  async run(): Promise<SeekResult> {
    const { flags } = await this.parse(Seek)
    const groups = [...new Set(flags.group)]
    const { mode, request } = await this.toRequest(flags, groups)
    const gateway = await this.gateway(flags)
    const { planSeek, applySeek, waitForEmpty } = await import('../src/services/seek.js')
    const plan = await planSeek(gateway, request)
    const { renderSeekPlan } = await import('../src/render/seek.js')
    this.out(renderSeekPlan(plan, { execute: flags.execute }))
    void mode

    const result: SeekResult = { plan, applied: false }
    if (flags.export) {
      const { formatOffsetsCsv } = await import('../src/core/offsets-csv.js')
      writeFileSync(flags.export, formatOffsetsCsv(plan.rows.map((r) => ({ group: r.group, topic: r.topic, partition: r.partition, offset: r.newOffset })), groups.length > 1))
      result.exported = flags.export
      this.note(`Plan written to ${flags.export} (kafka-consumer-groups.sh --from-file format).`)
    }
    if (!flags.execute) {
      this.note('Dry run: nothing changed. Add --execute to apply this plan.')
      return result
    }
    if (plan.rows.every((r) => r.currentOffset === r.newOffset)) {
      this.note('Every partition is already at its new offset; nothing to do.')
      return result
    }
    if (flags['wait-empty']) {
      const { parseDuration } = await import('../src/core/duration.js')
      const wait = parseDuration(flags['wait-empty'])
      await waitForEmpty(gateway, groups, wait.ms, (group, members) => this.note(`Waiting for group ${group} to drain (${members} member(s) still active)…`))
    }
    await this.confirm({ yes: flags.yes, what: `move ${groups.length > 1 ? 'groups' : 'group'} ${groups.join(', ')} on ${plan.totals.partitions} partition(s)` })
    const undoCommand = (group: string) => this.undoCommand(group, flags)
    result.execution = await applySeek(gateway, plan, {
      journalDir: flags.journal,
      actor: { user: safeUser(), host: hostname(), command: redactText(`recover ${(this.id ?? "seek").replace(/:/g, " ")} ${this.argv.join(" ")}`) },
      undoCommand,
    })
    result.applied = true
    result.undoCommands = result.execution.applied.map((a) => undoCommand(a.group))
    for (const a of result.execution.applied) {
      this.out(`Applied to group ${a.group} (${a.partitions} partitions). Previous offsets saved in ${a.journal}.`)
      this.out(`Undo with: ${undoCommand(a.group)}`)
    }
    return result
  }

  private undoCommand(group: string, flags: { brokers?: string; cluster?: string; 'client-config'?: string; config?: string; journal: string }): string {
    const parts = ['recover', 'seek', '--group', quote(group), '--undo', '--execute']
    if (flags.brokers) parts.push('--brokers', flags.brokers)
    if (flags.cluster) parts.push('--cluster', flags.cluster)
    if (flags['client-config']) parts.push('--client-config', quote(flags['client-config']))
    if (flags.config) parts.push('--config', quote(flags.config))
    // The default journal folder is relative to where the command ran; name it absolutely.
    parts.push('--journal', quote(resolve(flags.journal)))
    return parts.join(' ')
  }

  private async toRequest(flags: Record<string, unknown> & { journal: string; tz?: string; topic?: string[]; 'all-topics'?: boolean }, groups: string[]): Promise<{ mode: SeekMode; request: SeekRequest }> {
    const { parseTopicScope, mergeTopicScopes } = await import('../src/core/topic-scope.js')
    const scope: SeekScope = flags.topic?.length ? { kind: 'topics', topics: mergeTopicScopes(flags.topic.map(parseTopicScope)) } : flags['all-topics'] ? { kind: 'all-topics' } : { kind: 'committed' }
    let mode: SeekMode
    const request: SeekRequest = { groups, mode: { kind: 'to-earliest' }, scope }
    if (typeof flags.to === 'string') {
      const { parseTimeSpec } = await import('../src/core/time-spec.js')
      const t = parseTimeSpec(flags.to, { tz: flags.tz })
      mode = { kind: 'to-time', instantMs: t.instantMs, display: t.display }
    } else if (flags['to-earliest']) mode = { kind: 'to-earliest' }
    else if (flags['to-latest']) mode = { kind: 'to-latest' }
    else if (typeof flags['to-offset'] === 'string') {
      if (!/^\d+$/.test(flags['to-offset'])) throw new RecoveryError('USAGE', `--to-offset "${flags['to-offset']}" is not an offset; use a non-negative number, e.g. --to-offset 1500.`)
      mode = { kind: 'to-offset', offset: BigInt(flags['to-offset']) }
    } else if (typeof flags['shift-by'] === 'string') {
      if (!/^[+-]?\d+$/.test(flags['shift-by'])) throw new RecoveryError('USAGE', `--shift-by "${flags['shift-by']}" is not a number of records; use e.g. --shift-by=-100 or --shift-by 1.`)
      mode = { kind: 'shift-by', delta: BigInt(flags['shift-by']) }
    } else if (typeof flags['by-duration'] === 'string') {
      const { parseDuration } = await import('../src/core/duration.js')
      const { formatInstant } = await import('../src/core/time-spec.js')
      const d = parseDuration(flags['by-duration'])
      const instantMs = Date.now() - Math.abs(d.ms)
      mode = { kind: 'by-duration', durationMs: Math.abs(d.ms), instantMs, display: `${d.display} before now = ${formatInstant(instantMs, flags.tz)}` }
    } else if (typeof flags['from-file'] === 'string') {
      const file = flags['from-file']
      const { parseOffsetsCsv } = await import('../src/core/offsets-csv.js')
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch (cause) {
        throw new RecoveryError('CONFIG_NOT_FOUND', `Cannot read the plan file ${file}; check the path given to --from-file.`, { cause })
      }
      if (scope.kind !== 'committed') throw new RecoveryError('USAGE', '--from-file brings its own partitions; drop --topic / --all-topics.')
      request.fileLines = parseOffsetsCsv(text, file)
      const fileGroups = new Set(request.fileLines.map((l) => l.group).filter((g): g is string => g !== undefined))
      if (fileGroups.size === 0 && groups.length > 1) throw new RecoveryError('USAGE', `${file} has no group column but several --group flags were given; use the group,topic,partition,offset form.`)
      mode = { kind: 'from-file', file }
    } else {
      const { newestJournalSnapshot } = await import('../src/files/seek-journal.js')
      request.undo = new Map()
      for (const group of groups) {
        const found = newestJournalSnapshot(flags.journal, group)
        if (!found) throw new RecoveryError('NO_JOURNAL', `No journal snapshot for group "${group}" in ${flags.journal}; nothing to undo. Snapshots are written by seek --execute (pass --journal DIR if they are elsewhere).`)
        request.undo.set(group, found)
      }
      mode = { kind: 'undo', file: [...request.undo.values()].map((f) => f.path).join(', ') }
    }
    request.mode = mode
    return { mode, request }
  }
}

function quote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

function safeUser(): string {
  try {
    return userInfo().username
  } catch {
    return process.env.USER ?? 'unknown'
  }
}
