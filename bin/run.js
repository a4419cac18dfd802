#!/usr/bin/env node
import { execute } from '@oclif/core'

await execute({ dir: import.meta.url })
// The command has finished and closed its clients; a kafkajs socket still winding down must
// not keep an on-call engineer's terminal waiting. stdout/stderr writes are synchronous here.
process.exit(process.exitCode ?? 0)
