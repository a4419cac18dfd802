import { existsSync, readFileSync } from 'node:fs'
import { arch, homedir, release, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Interfaces } from '@oclif/core'
import { HELP_SNAPSHOT_FILE, type HelpSnapshot, helpSnapshotStamp } from './help-snapshot.js'
import { loadHelpModule, RECOVER_HELP_CLASS, recoverHelpClass } from './recover-help.js'

/**
 * `recover --help`, `recover COMMAND --help` and `recover --version` without loading oclif's
 * config machinery: the config comes from the snapshot taken at build time (help-snapshot.ts)
 * and the text from oclif's own Help class, so it is the text oclif prints. Returns false,
 * having printed nothing, whenever oclif itself might answer differently: no snapshot or a
 * stale one, plugins a user installed, a colour theme, debug output, WSL or Windows, hooks (but
 * command_not_found, which never answers --help), another help class than recover's own, a
 * command whose help is built at run time, or a subject that is not a command or topic.
 * bin/run.js then runs oclif as usual.
 */
export async function showHelpFast(argv: string[], root: string): Promise<boolean> {
  const snapshot = readSnapshot(root)
  if (snapshot === undefined || !oclifWouldAgree(snapshot)) return false
  const config = snapshotConfig(snapshot, root)
  const versionFlags = new Set(['--version', ...(snapshot.pjson.oclif.additionalVersionFlags ?? [])])
  if (versionFlags.has(argv[0]!)) {
    console.log(config.userAgent)
    return true
  }
  const helpModule = loadHelpModule(root)
  const helpFlags = helpModule.getHelpFlagAdditions(config as unknown as Interfaces.Config)
  if (!asksForHelp(argv, helpFlags)) return false
  const subject = helpSubject(argv, helpFlags, config, helpModule)
  if (subject !== undefined) {
    const command = config.findCommand(subject)
    if (command ? command.hasDynamicHelp : config.findTopic(subject) === undefined) return false
  }
  const { pjson } = snapshot
  const Help = pjson.oclif.helpClass === RECOVER_HELP_CLASS ? recoverHelpClass(helpModule) : helpModule.Help
  await new Help(config as unknown as Interfaces.Config, pjson.oclif.helpOptions ?? pjson.helpOptions).showHelp(argv)
  return true
}

function readSnapshot(root: string): HelpSnapshot | undefined {
  let snapshot: HelpSnapshot
  try {
    snapshot = JSON.parse(readFileSync(join(root, HELP_SNAPSHOT_FILE), 'utf8')) as HelpSnapshot
  } catch {
    return undefined
  }
  return helpSnapshotStamp(root, snapshot.plugins) === snapshot.stamp ? snapshot : undefined
}

/** Everything besides the snapshot that oclif's Config.load reads and that changes what help shows. */
function oclifWouldAgree(snapshot: HelpSnapshot): boolean {
  const env = process.env
  const scoped = (name: string) => env[`${snapshot.bin.replaceAll('@', '').replaceAll(/[-/]/g, '_')}_${name}`.toUpperCase()]
  if (process.platform !== 'linux' && process.platform !== 'darwin') return false
  if (process.platform === 'linux' && isMaybeWsl()) return false
  if (env.DEBUG || scoped('DEBUG') || env.NODE_ENV === 'development') return false
  if (Object.keys(env).some((name) => name.startsWith('OCLIF_') && name !== 'OCLIF_COLUMNS')) return false
  if (snapshot.flexibleTaxonomy || snapshot.isSingleCommandCLI || snapshot.pjson.oclif.theme) return false
  if (snapshot.pjson.oclif.helpClass !== undefined && snapshot.pjson.oclif.helpClass !== RECOVER_HELP_CLASS) return false
  if (snapshot.plugins.some((p) => p.hooks > 0)) return false
  const home = env.HOME || homedir() || tmpdir()
  const dataDir = scoped('DATA_DIR') || join(env.XDG_DATA_HOME || join(home, '.local/share'), snapshot.dirname)
  const configDir = scoped('CONFIG_DIR') || join(env.XDG_CONFIG_HOME || join(home, '.config'), snapshot.dirname)
  // Plugins a user installed with `plugins install` are listed there; a colour theme lives there.
  return !existsSync(join(dataDir, 'package.json')) && !existsSync(join(configDir, 'theme.json'))
}

/** What oclif's WSL check (is-wsl) looks at; on WSL oclif names the platform "wsl". */
function isMaybeWsl(): boolean {
  if (/microsoft/i.test(release())) return true
  try {
    if (/microsoft/i.test(readFileSync('/proc/version', 'utf8'))) return true
  } catch {}
  return existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL')
}

type SnapshotCommand = HelpSnapshot['commands'][number][1]

/** The parts of oclif's Config that its Help class reads, answered from the snapshot. */
function snapshotConfig(snapshot: HelpSnapshot, root: string) {
  const commands = new Map(snapshot.commands)
  const topics = new Map(snapshot.topics)
  const commandPermutations = new Map(snapshot.commandPermutations)
  const topicPermutations = new Map(snapshot.topicPermutations)
  const platform = process.platform
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  return {
    root,
    pjson: snapshot.pjson,
    name: snapshot.name,
    version: snapshot.version,
    bin: snapshot.bin,
    dirname: snapshot.dirname,
    topicSeparator: snapshot.topicSeparator,
    flexibleTaxonomy: snapshot.flexibleTaxonomy,
    isSingleCommandCLI: snapshot.isSingleCommandCLI,
    platform,
    arch: cpu,
    windows: false,
    shell: process.env.SHELL?.split('/').pop() ?? '',
    theme: undefined,
    userAgent: `${snapshot.name}/${snapshot.version} ${platform}-${cpu} node-${process.version}`,
    plugins: new Map(snapshot.plugins.map((p) => [p.name, { name: p.name, version: p.version, pjson: { oclif: { state: p.state } } }])),
    get commands(): SnapshotCommand[] {
      return [...commands.values()]
    },
    get commandIDs(): string[] {
      return [...commands.values()].map((c) => c.id)
    },
    get topics(): Interfaces.Topic[] {
      return [...topics.values()]
    },
    findCommand(id: string): SnapshotCommand | undefined {
      return commands.get(commands.has(id) ? id : (commandPermutations.get(id) ?? id))
    },
    findTopic(name: string): Interfaces.Topic | undefined {
      return topics.get(topics.has(name) ? name : (topicPermutations.get(name) ?? name))
    },
  }
}

/** oclif's main: help when there are no arguments, or a help flag comes before any `--`. */
function asksForHelp(argv: string[], helpFlags: string[]): boolean {
  if (argv.length === 0) return true
  for (const arg of argv) {
    if (helpFlags.includes(arg)) return true
    if (arg === '--') return false
  }
  return false
}

/** The command or topic oclif's Help.showHelp shows, undefined for the root help. */
function helpSubject(
  argv: string[],
  helpFlags: string[],
  config: ReturnType<typeof snapshotConfig>,
  helpModule: typeof import('@oclif/core/help'),
): string | undefined {
  let args = argv.filter((arg) => !helpFlags.includes(arg))
  if (config.topicSeparator !== ':') args = helpModule.standardizeIDFromArgv(args, config as unknown as Interfaces.Config)
  for (const arg of args) {
    if (arg === '--') return undefined
    if (arg === 'help') continue
    if (arg.startsWith('-')) return undefined
    return arg
  }
  return undefined
}
