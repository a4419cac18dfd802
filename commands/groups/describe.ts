import { Flags } from '../../src/cli/oclif.js'
import { BaseCommand, jsonSafe } from '../../src/cli/base-command.js'
import { connectionFlags } from '../../src/cli/shared-flags.js'
import { auditDbPath, DEFAULT_AUDIT_DB } from '../../src/cli/audit-flags.js'
import { redact } from '../../src/config/redact.js'
import type { GroupDetail } from '../../src/services/describe-group.js'

export type GroupDescribeResult = GroupDetail & { recorded?: { db: string; rows: number } }

export default class GroupsDescribe extends BaseCommand<GroupDescribeResult | undefined> {
  static override summary = 'Show a group per topic-partition: committed offset, log end, lag in records and in time, and who holds it; --watch follows it.'
  static override description =
    `Lag in time is the age of the record at the committed offset (the next one the group will read); 0 when caught up. Partitions of the group's topics that it never committed are listed with "-" so nothing hides. The numbers match kafka-consumer-groups.sh --describe.

--watch measures again every --interval and redraws lag in records and in time with a sparkline per partition (on a terminal); in a pipe it prints one line per sample, and with --json one JSON object per sample (NDJSON). Ctrl-C stops it and exits 0; --samples N stops after N samples, for scripts.

--record appends each sample to the audit DuckDB file (--db, default ${DEFAULT_AUDIT_DB}), so recover groups history shows the trend: run --watch --record for an incident, or --json --record from cron every few minutes.`
  static override examples = [
    { description: 'Lag per partition, in records and in time', command: '<%= config.bin %> groups describe --group billing' },
    { description: 'Follow the lag, redrawn every 5 seconds (Ctrl-C to stop)', command: '<%= config.bin %> groups describe --group billing --watch' },
    {
      description: 'Keep the trend: sample every minute into the audit history',
      command: '<%= config.bin %> groups describe -g billing --watch --interval 1m --record',
    },
    { description: 'From cron: one sample, recorded, as JSON', command: '<%= config.bin %> groups describe --group billing --json --record' },
    { description: 'Three samples as NDJSON, for a script', command: '<%= config.bin %> groups describe -g billing --watch --samples 3 --json' },
  ]
  static override flags = {
    ...connectionFlags,
    group: Flags.string({ char: 'g', summary: 'Consumer group id.', required: true }),
    watch: Flags.boolean({ char: 'w', summary: 'Measure again every --interval and redraw, until Ctrl-C (or --samples).', default: false }),
    interval: Flags.string({ summary: 'Time between samples with --watch: 5s, 1m, PT30S.', default: '5s' }),
    samples: Flags.integer({ summary: 'With --watch: stop after this many samples (for scripts).', min: 1, max: 1_000_000 }),
    record: Flags.boolean({ summary: 'Append each sample to the audit history (--db), for recover groups history.', default: false }),
    db: Flags.string({ summary: `The audit DuckDB file --record writes to. Default: ${DEFAULT_AUDIT_DB}.`, dependsOn: ['record'] }),
  }

  async run(): Promise<GroupDescribeResult | undefined> {
    const { flags } = await this.parse(GroupsDescribe)
    const { parseDuration } = await import('../../src/core/duration.js')
    const intervalMs = parseDuration(flags.interval).ms
    if (intervalMs <= 0) {
      const { RecoveryError } = await import('../../src/errors.js')
      throw new RecoveryError('USAGE', `--interval must be longer than 0, not "${flags.interval}"; try --interval 5s.`)
    }
    if (flags.samples !== undefined && !flags.watch) {
      const { RecoveryError } = await import('../../src/errors.js')
      throw new RecoveryError('USAGE', '--samples counts the samples of --watch; add --watch, or drop --samples for one measurement.')
    }
    const db = flags.record ? auditDbPath(flags.db, this.projectConfig(flags)) : undefined
    const gateway = await this.gateway(flags)
    const { recordLagSample } = await import('../../src/services/lag-history.js')
    const record = async (detail: GroupDetail) => (db === undefined ? undefined : recordLagSample(db, gateway.cluster.id, detail))
    if (!flags.watch) {
      const { describeGroup } = await import('../../src/services/describe-group.js')
      const detail = await describeGroup(gateway, flags.group)
      const recorded = await record(detail)
      const { renderGroupDetail } = await import('../../src/render/groups.js')
      this.out(renderGroupDetail(detail))
      if (recorded) this.note(`Recorded ${recorded.rows} partition sample(s) in ${recorded.db}.`)
      return recorded ? { ...detail, recorded } : detail
    }
    await this.watch(gateway, flags.group, intervalMs, flags.samples, record, db)
    return undefined
  }

  /** The redrawn screen: someone is watching it, so every frame is drawn even where CI=true. */
  private async liveView() {
    const { drawEveryFrame } = await import('../../src/ui/interactive-terminal.js')
    drawEveryFrame()
    const { LiveLagWatch } = await import('../../src/ui/live-lag-watch.js')
    return new LiveLagWatch(process.stdout)
  }

  private async watch(
    gateway: Awaited<ReturnType<GroupsDescribe['gateway']>>,
    group: string,
    intervalMs: number,
    samples: number | undefined,
    record: (detail: GroupDetail) => Promise<{ db: string; rows: number } | undefined>,
    db: string | undefined,
  ): Promise<void> {
    const { watchGroupLag } = await import('../../src/services/watch-group-lag.js')
    const { lagSeries } = await import('../../src/core/lag-trend.js')
    const { lagSampleLine } = await import('../../src/render/groups.js')
    const stop = new AbortController()
    // Ctrl-C (or a service manager's SIGTERM) ends the watch, not the process: it exits 0.
    // `on`, not `once`: Ink's exit hook (signal-exit) re-raises a signal nobody else listens to
    // any more, and a `once` listener is gone by the time it looks.
    const onSignal = () => stop.abort()
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    const live = !this.jsonEnabled() && process.stdout.isTTY === true ? await this.liveView() : undefined
    const kept: Array<{ sampledAt: string; topic: string; partition: number; lag: number | null; lagMs: number | null }> = []
    try {
      await watchGroupLag(gateway, {
        groupId: group,
        intervalMs,
        samples,
        signal: stop.signal,
        onSample: async (detail, index) => {
          const recorded = await record(detail)
          if (this.jsonEnabled()) {
            process.stdout.write(`${JSON.stringify(redact(jsonSafe({ type: 'sample', sample: index + 1, ...detail, recorded })))}\n`)
            return
          }
          if (!live) {
            this.out(lagSampleLine(detail))
            return
          }
          for (const p of detail.partitions)
            kept.push({ sampledAt: detail.measuredAt, topic: p.topic, partition: p.partition, lag: p.lag === null ? null : Number(p.lag), lagMs: p.lagMs })
          // The sparkline shows at most the last 40 samples; keep a few more than that.
          const keepRows = 60 * Math.max(1, detail.partitions.length)
          if (kept.length > keepRows) kept.splice(0, kept.length - keepRows)
          const series = lagSeries(kept)
          live.update({ detail, sample: index + 1, intervalMs, partitions: series.partitions, total: series.total, recordedTo: db ?? null })
        },
      })
    } finally {
      live?.finish()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
