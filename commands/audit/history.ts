import { Flags } from '../../src/cli/oclif.js'
import { BaseCommand } from '../../src/cli/base-command.js'
import { auditDbPath, DEFAULT_AUDIT_DB } from '../../src/cli/audit-flags.js'
import type { AuditHistoryResult } from '../../src/services/audit-history.js'

export default class AuditHistory extends BaseCommand<AuditHistoryResult> {
  static override summary = 'Show the audit runs kept in the audit DuckDB file: per topic, the newest runs and the trend of duplicates and losses.'
  static override description =
    `Every recover audit duplicates and audit compare run is recorded in --db unless --no-history; nightly runs build the trend this command shows. The default file is ${DEFAULT_AUDIT_DB}: the same for a cron job and a person in any folder. The first line says which file was read. Read-only: it never changes the file.`
  static override examples = [
    '<%= config.bin %> audit history',
    '<%= config.bin %> audit history --topic orders --limit 30',
    '<%= config.bin %> audit history --db /var/lib/recover/audit.duckdb --json',
  ]
  static override flags = {
    topic: Flags.string({ char: 't', summary: 'Only this topic.' }),
    db: Flags.string({ summary: `The audit DuckDB file. Default: ${DEFAULT_AUDIT_DB}.` }),
    limit: Flags.integer({ summary: 'Runs shown per topic, newest first.', default: 10, min: 1, max: 100_000 }),
  }

  async run(): Promise<AuditHistoryResult> {
    const { flags } = await this.parse(AuditHistory)
    const { auditHistory } = await import('../../src/services/audit-history.js')
    const result = await auditHistory({ db: auditDbPath(flags.db, this.projectConfig(flags)), topic: flags.topic, limit: flags.limit })
    const { renderAuditHistory } = await import('../../src/render/audit.js')
    this.out(renderAuditHistory(result))
    return result
  }
}
