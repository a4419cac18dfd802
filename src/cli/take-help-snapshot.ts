/** The help snapshot (src/cli/help-snapshot.ts) taken from oclif's own Config: what `oclif` itself would load. */
import { Config } from '@oclif/core/config'
import { type HelpSnapshot, helpSnapshotStamp } from './help-snapshot.js'

/** Config's own maps, which its public getters only show as arrays. */
interface ConfigInternals {
  _commands: Map<string, HelpSnapshot['commands'][number][1] & { load?: unknown }>
  _topics: Map<string, HelpSnapshot['topics'][number][1]>
  commandPermutations: { validPermutations: Map<string, string> }
  topicPermutations: { validPermutations: Map<string, string> }
}

export async function takeHelpSnapshot(root: string): Promise<HelpSnapshot | undefined> {
  // The package's own commands only: plugins a user installed (which make bin/run.js use oclif
  // itself) must not end up in what everyone's --help shows.
  const config = await Config.load({ root, userPlugins: false, devPlugins: false })
  const internals = config as unknown as ConfigInternals
  const plugins = [...config.plugins.values()].map((p) => ({
    name: p.name,
    version: p.version,
    state: p.pjson.oclif?.state,
    // command_not_found runs only for a command that does not exist, when the fast path has declined already.
    hooks: Object.keys(p.hooks ?? {}).filter((hook) => hook !== 'command_not_found').length,
    root: p.isRoot,
  }))
  const stamp = helpSnapshotStamp(root, plugins)
  if (stamp === undefined) return undefined
  const { name, version, description, oclif } = config.pjson
  const { helpOptions } = config.pjson as { helpOptions?: HelpSnapshot['pjson']['helpOptions'] }
  return {
    stamp,
    pjson: { name, version, description, helpOptions, oclif },
    name: config.name,
    version: config.version,
    bin: config.bin,
    dirname: config.dirname,
    topicSeparator: config.topicSeparator,
    flexibleTaxonomy: config.flexibleTaxonomy,
    isSingleCommandCLI: config.isSingleCommandCLI,
    commands: [...internals._commands].map(([id, { load: _load, ...command }]) => [id, command]),
    topics: [...internals._topics],
    commandPermutations: [...internals.commandPermutations.validPermutations],
    topicPermutations: [...internals.topicPermutations.validPermutations],
    plugins,
  }
}
