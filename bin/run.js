#!/usr/bin/env node
import module from 'node:module'
import { fileURLToPath } from 'node:url'

// Node 22.1+ keeps compiled code of the modules a command loads (kafkajs, oclif, ours) between
// runs: a seek dry run then starts about 10 % faster. Node 20 has no compile cache.
module.enableCompileCache?.()

// Help and the version are answered from a snapshot of oclif's config taken at build time, with
// oclif's own help renderer (dist/src/cli/fast-help.js): in about half the time oclif needs to
// load its config. It declines, printing nothing, whenever oclif could answer differently.
const argv = process.argv.slice(2)
const mayBeHelp = argv.length === 0 || argv[0] === '--version' || argv.includes('--help')
const answered =
  mayBeHelp &&
  (await import('../dist/src/cli/fast-help.js')
    .then(({ showHelpFast }) => showHelpFast(argv, fileURLToPath(new URL('..', import.meta.url))))
    .catch(() => false))
if (!answered) {
  // oclif bundled into one file by the build (src/cli/oclif.ts), the copy the commands use.
  const { execute } = await import('../dist/src/cli/oclif.js').catch(() => import('@oclif/core/execute'))
  await execute({ dir: import.meta.url })
}
// The command has finished and closed its clients; a kafkajs socket still winding down must
// not keep an on-call engineer's terminal waiting. But output to a pipe that the reader has
// not drained yet (more than 64 KiB of --json) is still queued: exit only once it is written.
const flushed = (stream) => new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', resolve)))
await Promise.all([flushed(process.stdout), flushed(process.stderr)])
process.exit(process.exitCode ?? 0)
