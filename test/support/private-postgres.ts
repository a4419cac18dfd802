import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freeLoopbackPorts } from '../../src/local-kafka/ports.js'

/** Whether this machine lets a test start its own PostgreSQL server (root, runuser -u postgres). */
export function canStartPrivatePostgres(): boolean {
  return spawnSync('runuser', ['--help']).status === 0 && process.getuid?.() === 0
}

/** A private PostgreSQL server for tests that restart or stop it (the shared one is never touched). */
export interface PrivateServer {
  url: string
  restart(): void
  stop(): void
  start(): void
  /** Stops it if it runs and deletes its data. */
  remove(): void
}

export async function startPrivatePostgres(): Promise<PrivateServer> {
  const bin = '/usr/lib/postgresql/15/bin'
  const data = mkdtempSync(join(tmpdir(), 'recover-pgdata-'))
  chmodSync(data, 0o777)
  const [port] = await freeLoopbackPorts(1)
  const asPostgres = (cmd: string[]) => {
    const r = spawnSync('runuser', ['-u', 'postgres', '--', ...cmd], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}${r.stdout}`)
  }
  asPostgres([`${bin}/initdb`, '-D', `${data}/db`, '-A', 'trust', '-U', 'postgres'])
  const ctl = (action: string) =>
    asPostgres([
      `${bin}/pg_ctl`,
      '-D',
      `${data}/db`,
      '-l',
      `${data}/log`,
      '-w',
      '-m',
      'fast',
      '-o',
      `-p ${port} -k ${data} -c listen_addresses=127.0.0.1`,
      action,
    ])
  ctl('start')
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => ctl('restart'),
    stop: () => ctl('stop'),
    start: () => ctl('start'),
    remove: () => {
      try {
        ctl('stop')
      } catch {
        // Already stopped.
      }
      rmSync(data, { recursive: true, force: true })
    },
  }
}
