/**
 * The command reference in docs/commands/README.md, rendered from oclif's manifest so it cannot
 * drift from the code: `npm run docs` writes it, and a unit test checks it is current.
 */

interface ManifestFlag {
  name: string
  char?: string
  summary?: string
  description?: string
  type: 'option' | 'boolean'
  required?: boolean
  multiple?: boolean
  default?: unknown
  options?: string[]
  helpGroup?: string
  hidden?: boolean
}

interface ManifestCommand {
  id: string
  summary?: string
  description?: string
  hidden?: boolean
  examples?: Array<string | { description?: string; command: string }>
  flags: Record<string, ManifestFlag>
}

export interface Manifest {
  commands: Record<string, ManifestCommand>
}

const GLOBAL = new Set(['json', 'verbose', 'brokers', 'client-config', 'cluster', 'config'])

export function renderCommandReference(manifest: Manifest, bin = 'recover'): string {
  const commands = Object.values(manifest.commands)
    .filter((c) => !c.hidden)
    .sort((a, b) => a.id.localeCompare(b.id))
  const lines = [
    '# Command reference',
    '',
    '<!-- Generated from the oclif manifest by `npm run docs`; a unit test keeps it current. Do not edit by hand. -->',
    '',
    'Every command also takes the connection flags `--brokers`, `--client-config`, `--cluster`, `--config`',
    '(see the README), `--json` for machine output and `--verbose` for stacks and Kafka client logs.',
    'Exit codes and error codes: [../errors.md](../errors.md). Flags that name where records come from or go to',
    '(`--sink`, `--quarantine`, `--dlq`, `--parking`, `--output`) take the locations of [../locations.md](../locations.md).',
    '',
  ]
  for (const c of commands) lines.push(`- [\`${bin} ${c.id.replace(/:/g, ' ')}\`](#${anchor(`${bin} ${c.id.replace(/:/g, ' ')}`)}): ${c.summary ?? ''}`)
  for (const c of commands) {
    const name = `${bin} ${c.id.replace(/:/g, ' ')}`
    lines.push('', `## ${name}`, '', c.summary ?? '')
    if (c.description) lines.push('', c.description)
    const flags = Object.values(c.flags).filter((f) => !f.hidden && !GLOBAL.has(f.name))
    if (flags.length > 0) {
      lines.push('', '| flag | meaning |', '| --- | --- |')
      for (const f of flags.sort((a, b) => a.name.localeCompare(b.name))) {
        const usage = `${f.char ? `-${f.char}, ` : ''}--${f.name}${f.type === 'option' ? ' VALUE' : ''}`
        const extras = [
          f.required ? 'required' : '',
          f.multiple ? 'repeatable' : '',
          f.options ? `one of: ${f.options.join(', ')}` : '',
          f.default !== undefined && f.default !== false ? `default: ${String(f.default)}` : '',
        ].filter(Boolean)
        lines.push(`| \`${usage}\` | ${escapeCell(f.summary ?? f.description ?? '')}${extras.length ? ` (${extras.join('; ')})` : ''} |`)
      }
    }
    if (c.examples?.length) {
      lines.push('', 'Examples:', '', '```sh')
      for (const e of c.examples) {
        const example = typeof e === 'string' ? { command: e } : e
        if (example.description) lines.push(`# ${example.description}`)
        lines.push(example.command.replace(/<%= config\.bin %>/g, bin))
      }
      lines.push('```')
    }
  }
  return `${lines.join('\n')}\n`
}

function anchor(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-')
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n+/g, ' ')
}
