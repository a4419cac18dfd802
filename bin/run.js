#!/usr/bin/env node
import { execute } from '@oclif/core/execute'

await execute({ dir: import.meta.url })
// The command has finished and closed its clients; a kafkajs socket still winding down must
// not keep an on-call engineer's terminal waiting. But output to a pipe that the reader has
// not drained yet (more than 64 KiB of --json) is still queued: exit only once it is written.
const flushed = (stream) => new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', resolve)))
await Promise.all([flushed(process.stdout), flushed(process.stderr)])
process.exit(process.exitCode ?? 0)
