import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type * as Core from '@oclif/core'
import { OCLIF_BUNDLE_FILE } from './help-snapshot.js'

const require = createRequire(import.meta.url)

/** The parts of oclif that commands and bin/run.js use at run time. */
export interface OclifRuntime {
  Command: typeof Core.Command
  Flags: typeof Core.Flags
  Args: typeof Core.Args
  execute: typeof Core.execute
}

/**
 * oclif for the commands and bin/run.js: the build's bundle of it (dist/oclif.cjs, one file,
 * written by npm run build) when there is one, else oclif's own modules. Loading oclif module by
 * module cost every command about 100 ms of CPU, a quarter of a seek dry run. Everything in
 * the process must use the same copy (its Command class, its errors, its config cache), so
 * commands and src/ import oclif at run time only from here; a unit test checks that.
 */
export function loadOclif(): OclifRuntime {
  const bundle = fileURLToPath(new URL(`../../../${OCLIF_BUNDLE_FILE}`, import.meta.url))
  if (existsSync(bundle)) return require(bundle) as OclifRuntime
  return {
    Command: (require('@oclif/core/command') as typeof import('@oclif/core/command')).Command,
    Flags: require('@oclif/core/flags') as typeof Core.Flags,
    Args: require('@oclif/core/args') as typeof Core.Args,
    execute: (require('@oclif/core/execute') as typeof import('@oclif/core/execute')).execute,
  }
}

const oclif = loadOclif()
export const Command = oclif.Command
export type Command = Core.Command
export const Flags = oclif.Flags
export const Args = oclif.Args
export const execute = oclif.execute
