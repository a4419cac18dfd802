import { Flags } from '../src/cli/oclif.js'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { BaseCommand } from '../src/cli/base-command.js'
import { currentActor } from '../src/config/actor.js'
import { quoteArgument } from '../src/core/command-line.js'
import { connectionFlags } from '../src/cli/shared-flags.js'
import { RecoveryError } from '../src/errors.js'
import type { SeekPlan, SeekApplyResult, SeekRequest, SeekScope } from '../src/services/seek.js'
import type { SeekMode } from '../src/core/seek-plan.js'
import { connectFlags } from '../src/cli/connect-flags.js'
import type { ConnectorSeekPlan, ConnectorSeekResult } from '../src/services/seek-connector.js'

const MODES = ['to', 'to-earliest', 'to-latest', 'to-offset', 'shift-by', 'by-duration', 'from-file', 'undo']

export interface SeekResult {
  /** The group seek plan (for a sink connector, its consumer group's). */
  plan?: SeekPlan
  /** seek --connector: the connector, what is PATCHed through Connect, and how the run went. */
  connector?: ConnectorSeekPlan
  connectorExecution?: ConnectorSeekResult
  applied: boolean
  execution?: SeekApplyResult
  undoCommands?: string[]
  exported?: string
}

export default class Seek extends BaseCommand<SeekResult> {
  static override summary = 'Move a consumer group to a point in time, safely: a dry-run plan first, a journal and undo.'
  static override description =
    `Exactly one mode per run. Without --execute nothing changes: the plan shows, per partition, the current and new offset, how many records will be replayed or skipped, and the timestamp of the record at the new offset. New offsets follow Apache Kafka's own rules (kafka-consumer-groups.sh --reset-offsets): the earliest offset whose timestamp is at or after TIME, the log end where no record is that late, and offsets clamped to the log start and end.

A time without a zone is UTC unless --tz is given; the plan prints the resolved instant. Before --execute changes anything, the previous offsets are written to the journal (journal/ in the state folder: RECOVER_HOME, else ~/.recover; or --journal) with the cluster's id, and the exact undo command is printed. --undo restores the newest snapshot taken on the same cluster and refuses snapshots from another one.

Scope: by default every partition of the topics the group has committed offsets for; --all-topics for exactly the partitions it committed; or --topic t / --topic t:0,2 (repeatable).

--connector NAME moves a Kafka Connect connector instead, through the Connect REST API (KIP-875, Connect 3.6+): a sink connector with every mode above (its consumer group, connect-NAME or consumer.override.group.id, is planned the same way; scope: the topics it reads); a source connector with --from-file OFFSETS.json (as recover connect describe --export writes it) or --undo. --execute stops the connector, waits for STOPPED (--stop-timeout), journals its offsets, PATCHes the new ones, reads them back, and resumes it (--no-resume leaves it STOPPED).`
  static override examples = [
    { description: 'Plan moving a group back to the start of an incident (dry run)', command: '<%= config.bin %> seek --group billing --to 2018-03-21T00:00' },
    { description: 'Apply it', command: '<%= config.bin %> seek --group billing --to 2018-03-21T00:00 --execute' },
    {
      description: 'Say "dry run" explicitly (the same as leaving out --execute)',
      command: '<%= config.bin %> seek --group billing --to 2018-03-21T00:00 --dry-run',
    },
    { description: 'A local time in Seoul', command: '<%= config.bin %> seek --group billing --to "2018-03-21 09:00" --tz Asia/Seoul' },
    {
      description: 'Two hours back from now, one topic, partitions 0 and 2',
      command: '<%= config.bin %> seek --group billing --by-duration PT2H --topic orders:0,2',
    },
    {
      description: 'Back to the first record release 1.6.0 wrote, per partition',
      command: "<%= config.bin %> seek -g billing -t orders --to 'first-match:header v = 1.6.0'",
    },
    { description: 'Skip one poison pill on partition 3', command: '<%= config.bin %> seek --group billing --topic orders:3 --shift-by 1 --execute' },
    {
      description: 'Export the plan in kafka-consumer-groups.sh --from-file format',
      command: '<%= config.bin %> seek --group billing --to-earliest --export plan.csv',
    },
    { description: 'Apply a plan file', command: '<%= config.bin %> seek --group billing --from-file plan.csv --execute --yes' },
    {
      description: 'Skip the poison pill at offset 1952 of partition 2, only if the group is stuck exactly there',
      command: '<%= config.bin %> seek --group billing --topic orders:2 --shift-by 1 --expect-current 1952 --execute',
    },
    { description: 'Undo the last change to the group on this cluster', command: '<%= config.bin %> seek --group billing --undo --execute' },
    {
      description: 'Rewind a sink connector to the start of an incident: plan, then stop, patch, check and resume it',
      command: '<%= config.bin %> seek --connector es-orders --connect-url http://connect:8083 --to 2018-03-21T00:00 --execute',
    },
    {
      description: "Set a source connector's offsets from an edited export",
      command: '<%= config.bin %> seek --connector jdbc-orders --from-file offsets.json --execute --yes',
    },
    { description: 'Undo the last change to a connector, through Connect', command: '<%= config.bin %> seek --connector es-orders --undo --execute' },
  ]
  static override flags = {
    ...connectionFlags,
    ...connectFlags,
    group: Flags.string({ char: 'g', summary: 'Consumer group (repeatable).', multiple: true, exactlyOne: ['group', 'connector'] }),
    connector: Flags.string({
      summary: 'A Kafka Connect connector instead of a group, moved through the Connect REST API (--connect-url).',
      exactlyOne: ['group', 'connector'],
    }),
    resume: Flags.boolean({
      summary: 'With --connector: resume the connector after its offsets are set (--no-resume leaves it STOPPED).',
      default: true,
      allowNo: true,
    }),
    'stop-timeout': Flags.string({ summary: 'With --connector: how long to wait for the connector to stop.', default: '60s' }),
    to: Flags.string({
      summary:
        "TIME: ISO-8601 (UTC unless zoned or --tz), a date, epoch ms, or relative like -2h; or 'first-match:PREDICATE' / 'last-match:PREDICATE' (recover find's edges).",
      helpGroup: 'MODE',
      exactlyOne: MODES,
    }),
    'to-earliest': Flags.boolean({ summary: 'The log start of each partition.', helpGroup: 'MODE', exactlyOne: MODES }),
    'to-latest': Flags.boolean({ summary: 'The log end of each partition (skip everything unread).', helpGroup: 'MODE', exactlyOne: MODES }),
    'to-offset': Flags.string({ summary: 'This offset in every partition, clamped to the log.', helpGroup: 'MODE', exactlyOne: MODES }),
    'shift-by': Flags.string({
      summary: '±N records from the current offset, clamped (write --shift-by=-100 for negative).',
      helpGroup: 'MODE',
      exactlyOne: MODES,
    }),
    'by-duration': Flags.string({ summary: 'DURATION back from now, e.g. PT2H or 90m.', helpGroup: 'MODE', exactlyOne: MODES }),
    'from-file': Flags.string({ summary: 'A CSV plan: topic,partition,offset or group,topic,partition,offset.', helpGroup: 'MODE', exactlyOne: MODES }),
    undo: Flags.boolean({ summary: 'Restore the newest journal snapshot of the group taken on this cluster.', helpGroup: 'MODE', exactlyOne: MODES }),
    'runbook-run': Flags.string({
      summary: 'With --undo: revert exactly the changes this runbook run made (refused if the group moved since).',
      dependsOn: ['undo'],
    }),
    'expect-current': Flags.string({ summary: 'Refuse unless the group is at this offset on every partition in scope (e.g. the poison pill to skip).' }),
    topic: Flags.string({
      char: 't',
      summary: 'Topic, optionally with partitions: orders or orders:0,2 (repeatable).',
      multiple: true,
      exclusive: ['all-topics'],
    }),
    'all-topics': Flags.boolean({ summary: 'Exactly the partitions the group has committed offsets for.', exclusive: ['topic'] }),
    execute: Flags.boolean({ summary: 'Apply the plan (asks on a terminal: no exits 4, changing nothing; needs --yes otherwise).', exclusive: ['dry-run'] }),
    'dry-run': Flags.boolean({
      summary: 'Only show the plan: what seek does without --execute, said explicitly (for scripts and runbooks).',
      exclusive: ['execute'],
    }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation.' }),
    export: Flags.string({ summary: 'Write the plan as CSV for kafka-consumer-groups.sh --from-file.' }),
    'wait-empty': Flags.string({ summary: 'Wait up to DURATION for the group to have no members instead of refusing.' }),
    tz: Flags.string({ summary: 'Zone for times without one: an IANA zone (Asia/Seoul), UTC, or local.' }),
    journal: Flags.string({
      summary: 'Journal folder. Default: journalDir of recover.config.json, else journal/ in the state folder (RECOVER_HOME, else ~/.recover).',
    }),
  }

  async run(): Promise<SeekResult> {
    const { flags } = await this.parse(Seek)
    const journalDir = await this.journalDir(flags)
    if (flags.connector) return this.runConnector(flags, flags.connector, journalDir)
    const groups = [...new Set(flags.group ?? [])]
    const request = await this.toRequest(flags, groups, journalDir)
    const gateway = await this.gateway(flags)
    const { planSeek, applySeek, waitForEmpty, plansDiffer } = await import('../src/services/seek.js')
    // The plan as a table is for people: under --json it is neither drawn nor loaded.
    const renderSeekPlan = async (shown: SeekPlan, options: { execute: boolean }) =>
      this.jsonEnabled() ? '' : (await import('../src/render/seek.js')).renderSeekPlan(shown, options)
    const { describeCluster } = await import('../src/core/cluster-identity.js')
    let plan = await planSeek(gateway, request)
    const result: SeekResult = { plan, applied: false }
    if (plan.nothingToUndo && plan.rows.length === 0) {
      this.out(
        `Runbook run ${flags['runbook-run']} made no change to group${plan.nothingToUndo.length > 1 ? 's' : ''} ${plan.nothingToUndo.join(', ')} on ${describeCluster(plan.cluster)}: nothing to roll back, nothing was changed.`,
      )
      return result
    }
    this.out(await renderSeekPlan(plan, { execute: flags.execute }))

    if (flags.export) {
      const { formatOffsetsCsv } = await import('../src/core/offsets-csv.js')
      writeFileSync(
        flags.export,
        formatOffsetsCsv(
          plan.rows.map((r) => ({ group: r.group, topic: r.topic, partition: r.partition, offset: r.newOffset })),
          groups.length > 1,
        ),
      )
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
      // The consumers may have committed while they drained: what is applied is what was shown.
      const fresh = await planSeek(gateway, request)
      const change = plansDiffer(plan, fresh)
      if (change !== 'same') {
        this.out(`\nThe group committed while it drained; the plan from where it is now:\n`)
        this.out(await renderSeekPlan(fresh, { execute: true }))
        if (change === 'targets' && flags.yes) {
          const { RecoveryError } = await import('../src/errors.js')
          throw new RecoveryError(
            'OFFSETS_CHANGED',
            `The new offsets of group ${groups.join(', ')} changed while it drained (the plan above), and --yes approved the earlier plan; nothing was changed.`,
            {
              nextSteps: ['Review the plan above, then run the same command again.'],
            },
          )
        }
      }
      plan = fresh
      result.plan = plan
    }
    await this.confirm({
      yes: flags.yes,
      what: `move ${groups.length > 1 ? 'groups' : 'group'} ${groups.join(', ')} on ${plural(plan.totals.partitions, 'partition')} of ${describeCluster(plan.cluster)}`,
    })
    const undoCommand = (group: string) => this.undoCommand(group, flags, journalDir)
    result.execution = await applySeek(gateway, plan, {
      journalDir,
      actor: currentActor(`recover ${(this.id ?? 'seek').replace(/:/g, ' ')} ${this.argv.join(' ')}`),
      undoCommand,
      runbookRun: process.env.RECOVER_RUNBOOK_RUN || undefined,
    })
    result.applied = true
    result.undoCommands = result.execution.applied.map((a) => undoCommand(a.group))
    for (const a of result.execution.applied) {
      this.out(
        `Applied to group ${a.group} on ${describeCluster(plan.cluster)} (${plural(a.partitions, 'partition')}). Previous offsets saved in ${a.journal}.`,
      )
      this.out(`Undo with: ${undoCommand(a.group)}`)
    }
    return result
  }

  /** seek --connector: the plan machinery of a group seek, applied through Kafka Connect's REST API. */
  private async runConnector(
    flags: Record<string, unknown> & {
      execute: boolean
      yes: boolean
      resume: boolean
      'stop-timeout': string
      export?: string
      brokers?: string
      cluster?: string
      'client-config'?: string
      config?: string
      'connect-url'?: string
      'connect-ca'?: string
      'wait-empty'?: string
      'runbook-run'?: string
      tz?: string
      topic?: string[]
      'all-topics'?: boolean
      'expect-current'?: string
    },
    name: string,
    journalDir: string,
  ): Promise<SeekResult> {
    if (flags['wait-empty']) throw new RecoveryError('USAGE', '--wait-empty is for groups; with --connector, seek stops the connector itself (--stop-timeout).')
    const client = await this.connectClient(flags)
    let offsetsFile:
      | {
          file: string
          entries: import('../src/connect/connect-types.js').ConnectOffsetEntry[]
          snapshot?: import('../src/files/connector-journal.js').ConnectorJournalSnapshot
        }
      | undefined
    let request: SeekRequest
    const file = typeof flags['from-file'] === 'string' ? flags['from-file'] : undefined
    if (file && readText(file).trimStart().startsWith('{')) {
      const { parseConnectOffsetsFile } = await import('../src/core/connect-offsets.js')
      const text = readText(file)
      offsetsFile = { file, entries: parseConnectOffsetsFile(text, file) }
      // A journal snapshot (what a seek whose PATCH answer was lost prints): checked against where it was written.
      if (/"kind"\s*:\s*"recover-connector-journal"/.test(text)) {
        const { readConnectorSnapshot } = await import('../src/files/connector-journal.js')
        offsetsFile.snapshot = readConnectorSnapshot(file)
      }
      request = await this.toRequest({ ...flags, 'from-file': undefined, 'to-earliest': true }, [], journalDir)
      request.mode = { kind: 'from-file', file }
    } else request = await this.toRequest(flags, [], journalDir)
    const gateway = await this.gateway(flags)
    const { planConnectorSeek, applyConnectorSeek } = await import('../src/services/seek-connector.js')
    const plan = await planConnectorSeek(gateway, client, { connector: name, seek: request, journalDir, ...(offsetsFile ? { offsetsFile } : {}) })
    const result: SeekResult = { ...(plan.plan ? { plan: plan.plan } : {}), connector: plan, applied: false }
    if (plan.nothingToUndo) {
      this.out(`Runbook run ${flags['runbook-run']} made no change to connector ${name}: nothing to roll back, nothing was changed.`)
      return result
    }
    const render = await import('../src/render/connect.js')
    if (!this.jsonEnabled()) this.out(render.renderConnectorSeekPlan(plan, { execute: flags.execute }))
    if (flags.export) {
      writeFileSync(flags.export, `${JSON.stringify({ offsets: plan.patch }, null, 2)}\n`)
      result.exported = flags.export
      this.note(`Plan written to ${flags.export} (Connect's offsets form, for --from-file).`)
    }
    if (!flags.execute) {
      this.note('Dry run: nothing changed. Add --execute to apply this plan.')
      return result
    }
    const { describeCluster } = await import('../src/core/cluster-identity.js')
    await this.confirm({
      yes: flags.yes,
      what: `stop connector ${name}, set ${plan.patch.length} offset${plan.patch.length === 1 ? '' : 's'} through ${client.url} on ${describeCluster(plan.cluster)}, and ${flags.resume ? 'resume it' : 'leave it STOPPED'}`,
    })
    const { parseDuration } = await import('../src/core/duration.js')
    const { connectTargetArgs, credentialsNote, rerunCommand } = await import('../src/core/connect-commands.js')
    // The commands printed reach Connect as this run did: the URL without credentials (the note says where they go), the CA file.
    const connect = {
      url: client.url,
      ...(flags['connect-ca'] ? { ca: resolve(flags['connect-ca']) } : {}),
      credentialsInUrl: client.settings.credentialsInUrl,
    }
    const via = connectTargetArgs(connect)
    const note = credentialsNote(connect)
    const target = ['--connector', quoteArgument(name), ...via, ...this.connectionArgs(flags)]
    const commands = {
      retry: rerunCommand(['recover', 'seek'], this.argv, connect),
      undo: ['recover', 'seek', ...target, '--undo', '--execute', '--journal', quoteArgument(journalDir)].join(' '),
      resume: ['recover', 'connect', 'resume', quoteArgument(name), ...via].join(' '),
      describe: ['recover', 'connect', 'describe', quoteArgument(name), ...via].join(' '),
      setExactly: (snapshot: string) =>
        [
          'recover',
          'seek',
          ...target,
          '--from-file',
          quoteArgument(snapshot),
          '--execute',
          '--yes',
          ...(flags.resume ? [] : ['--no-resume']),
          '--stop-timeout',
          quoteArgument(flags['stop-timeout']),
          '--journal',
          quoteArgument(journalDir),
        ].join(' '),
    }
    try {
      result.connectorExecution = await applyConnectorSeek(gateway, client, plan, {
        journalDir,
        actor: currentActor(`recover seek ${this.argv.join(' ')}`),
        resume: flags.resume,
        stopTimeoutMs: parseDuration(flags['stop-timeout']).ms,
        commands,
        ...(process.env.RECOVER_RUNBOOK_RUN ? { runbookRun: process.env.RECOVER_RUNBOOK_RUN } : {}),
      })
    } catch (error) {
      if (note && error instanceof RecoveryError && error.nextSteps.length > 0) error.nextSteps.push(note)
      throw error
    }
    result.applied = true
    this.out(render.renderConnectorSeekResult(result.connectorExecution))
    if (result.connectorExecution.alreadySet) return result
    result.undoCommands = [commands.undo]
    this.out(`Undo with: ${commands.undo}`)
    if (note) this.out(note)
    return result
  }

  private connectionArgs(flags: { brokers?: string; cluster?: string; 'client-config'?: string; config?: string }): string[] {
    const parts: string[] = []
    if (flags.brokers) parts.push('--brokers', flags.brokers)
    if (flags.cluster) parts.push('--cluster', flags.cluster)
    if (flags['client-config']) parts.push('--client-config', quoteArgument(flags['client-config']))
    if (flags.config) parts.push('--config', quoteArgument(flags.config))
    return parts
  }

  /** --journal, else the config file's journalDir, else journal/ in the state folder. */
  private async journalDir(flags: { journal?: string; config?: string }): Promise<string> {
    if (flags.journal) return resolve(flags.journal)
    const project = this.projectConfig(flags)
    if (project.defaults.journalDir) return project.defaults.journalDir
    const { recoverStateDir } = await import('../src/config/state-dir.js')
    return join(recoverStateDir(project).dir, 'journal')
  }

  private undoCommand(group: string, flags: { brokers?: string; cluster?: string; 'client-config'?: string; config?: string }, journalDir: string): string {
    const parts = ['recover', 'seek', '--group', quoteArgument(group), '--undo', '--execute']
    if (flags.brokers) parts.push('--brokers', flags.brokers)
    if (flags.cluster) parts.push('--cluster', flags.cluster)
    if (flags['client-config']) parts.push('--client-config', quoteArgument(flags['client-config']))
    if (flags.config) parts.push('--config', quoteArgument(flags.config))
    // Named absolutely, so the undo works from any folder and whatever RECOVER_HOME says then.
    parts.push('--journal', quoteArgument(journalDir))
    return parts.join(' ')
  }

  private async toRequest(
    flags: Record<string, unknown> & { tz?: string; topic?: string[]; 'all-topics'?: boolean; 'runbook-run'?: string; 'expect-current'?: string },
    groups: string[],
    journalDir: string,
  ): Promise<SeekRequest> {
    const { parseTopicScope, mergeTopicScopes } = await import('../src/core/topic-scope.js')
    const scope: SeekScope = flags.topic?.length
      ? { kind: 'topics', topics: mergeTopicScopes(flags.topic.map(parseTopicScope)) }
      : flags['all-topics']
        ? { kind: 'all-topics' }
        : { kind: 'committed' }
    let mode: SeekMode
    const request: SeekRequest = { groups, mode: { kind: 'to-earliest' }, scope }
    const { parseMatchEdge } = await import('../src/core/record-predicate.js')
    const match = typeof flags.to === 'string' ? parseMatchEdge(flags.to, '--to', { tz: flags.tz }) : undefined
    if (match) mode = { kind: 'to-match', ...match, ...(flags.tz === undefined ? {} : { tz: flags.tz }) }
    else if (typeof flags.to === 'string') {
      const { parseTimeSpec } = await import('../src/core/time-spec.js')
      const t = parseTimeSpec(flags.to, { tz: flags.tz })
      mode = { kind: 'to-time', instantMs: t.instantMs, display: t.display }
    } else if (flags['to-earliest']) mode = { kind: 'to-earliest' }
    else if (flags['to-latest']) mode = { kind: 'to-latest' }
    else if (typeof flags['to-offset'] === 'string') {
      if (!/^\d+$/.test(flags['to-offset']))
        throw new RecoveryError('USAGE', `--to-offset "${flags['to-offset']}" is not an offset; use a non-negative number, e.g. --to-offset 1500.`)
      mode = { kind: 'to-offset', offset: BigInt(flags['to-offset']) }
    } else if (typeof flags['shift-by'] === 'string') {
      if (!/^[+-]?\d+$/.test(flags['shift-by']))
        throw new RecoveryError('USAGE', `--shift-by "${flags['shift-by']}" is not a number of records; use e.g. --shift-by=-100 or --shift-by 1.`)
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
      if (fileGroups.size === 0 && groups.length > 1)
        throw new RecoveryError('USAGE', `${file} has no group column but several --group flags were given; use the group,topic,partition,offset form.`)
      mode = { kind: 'from-file', file }
    } else {
      request.undo = { journalDir, ...(flags['runbook-run'] ? { runbookRun: flags['runbook-run'] } : {}) }
      mode = { kind: 'undo', file: flags['runbook-run'] ? `runbook run ${flags['runbook-run']} (${journalDir})` : journalDir }
    }
    if (flags['expect-current'] !== undefined) {
      if (!/^\d+$/.test(flags['expect-current']))
        throw new RecoveryError(
          'USAGE',
          `--expect-current "${flags['expect-current']}" is not an offset; use the offset the group is stuck on, e.g. --expect-current 1952.`,
        )
      if (mode.kind === 'undo' || mode.kind === 'from-file')
        throw new RecoveryError('USAGE', `--expect-current checks where the group is before a move; it does not go with --${mode.kind}.`)
      request.expectCurrentOffset = BigInt(flags['expect-current'])
    }
    request.mode = mode
    return request
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (cause) {
    throw new RecoveryError('CONFIG_NOT_FOUND', `Cannot read the plan file ${file}; check the path given to --from-file.`, { cause })
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
