import { createRequire } from 'node:module'
import { join } from 'node:path'
import type * as HelpModule from '@oclif/core/help'
import { wrapShellWords } from '../core/shell-words.js'
import { HELP_BUNDLE_FILE } from './help-snapshot.js'

type OclifHelpModule = typeof HelpModule

/** Where package.json names recover's help class (oclif.helpClass), relative to the package. */
export const RECOVER_HELP_CLASS = './dist/src/cli/help-class.js'

/** oclif's help module: the build's bundle of it, else from node_modules as oclif loads it. */
export function loadHelpModule(root: string): OclifHelpModule {
  const require = createRequire(join(root, 'package.json'))
  try {
    return require(join(root, HELP_BUNDLE_FILE)) as OclifHelpModule
  } catch {
    return require('@oclif/core/help') as OclifHelpModule
  }
}

const ANSI = /\u001b\[[0-9;]*m/g
const made = new WeakMap<OclifHelpModule, typeof HelpModule.Help>()

/**
 * oclif's Help, except that examples wrap between shell words only. oclif wraps them like
 * prose, with hard breaks: at 80 columns a long URL was cut in two and a quoted argument split
 * across lines, so a pasted example ran something else (a `--sink "postgres:      //…"`).
 * The same class answers on oclif's path (package.json oclif.helpClass) and on the fast one.
 */
export function recoverHelpClass(mod: OclifHelpModule): typeof HelpModule.Help {
  const known = made.get(mod)
  if (known) return known
  class RecoverCommandHelp extends mod.CommandHelp {
    private inExamples = false

    protected override examples(examples: Parameters<HelpModule.CommandHelp['examples']>[0]): string | undefined {
      this.inExamples = true
      try {
        const body = super.examples(examples)
        // oclif leaves examples given as bare strings unwrapped: wrap those that are too long here.
        // The section indents the body by indentSpacing; continuation lines add two more and " \\".
        const room = this.opts.maxWidth - this.indentSpacing
        return body
          ?.split('\n')
          .map((line) => {
            const plain = line.replace(ANSI, '')
            if (plain.length <= room || !this.isCommandLine(plain.trimStart())) return line
            const indent = plain.slice(0, plain.length - plain.trimStart().length)
            return wrapShellWords(plain.trimStart(), room - indent.length - 4)
              .join(` \\\n${indent}  `)
              .replace(/^/, indent)
          })
          .join('\n')
      } finally {
        this.inExamples = false
      }
    }

    override wrap(body: string, spacing?: number): string {
      const plain = body.replace(ANSI, '')
      if (!this.inExamples || !this.isCommandLine(plain)) return super.wrap(body, spacing)
      return wrapShellWords(plain, this.opts.maxWidth - (spacing ?? this.indentSpacing)).join('\n')
    }

    /** `$ recover …`, `recover …` or `VAR=value recover …`: a line someone will paste. */
    private isCommandLine(line: string): boolean {
      const bin = this.config.bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      return new RegExp(`^(\\$ )?([A-Za-z_][A-Za-z0-9_]*=\\S+ )*${bin} `).test(line)
    }
  }
  class RecoverHelp extends mod.Help {
    protected override CommandHelpClass = RecoverCommandHelp
  }
  made.set(mod, RecoverHelp)
  return RecoverHelp
}
