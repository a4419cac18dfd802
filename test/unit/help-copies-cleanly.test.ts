import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { suggestCommands } from '../../src/core/command-suggestion.js'
import { rawShellWords, shellArguments, wrapShellWords } from '../../src/core/shell-words.js'
import { repoRoot } from '../support/paths.js'

const root = repoRoot()
type Example = string | { description: string; command: string }
const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, { examples?: Example[]; hidden?: boolean }>
}
const bin = join(root, 'bin', 'run.js')

/** The binary's output as a person reads it (colours off: a copy from the terminal has none). */
function recover(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } })
  const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '')
  return { status: run.status, stdout: plain(run.stdout), stderr: plain(run.stderr) }
}

/** The example command lines as written in the command (oclif's `<%= config.bin %>` filled in). */
function writtenCommands(examples: Example[]): string[] {
  return examples
    .flatMap((e) => (typeof e === 'string' ? e.split('\n') : [e.command]))
    .map((line) => line.replaceAll('<%= config.bin %>', 'recover').trim())
    .filter((line) => /^(\$ )?([A-Za-z_][A-Za-z0-9_]*=\S+ )*recover /.test(line))
    .map((line) => line.replace(/^\$ /, ''))
}

/** The example commands of a help text as a person copies them: from the command to the last line ending in " \". */
function copiedCommands(help: string): string[] {
  const lines = help.slice(help.indexOf('\nEXAMPLES\n')).split('\n')
  const out: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const start = lines[i]!.trim()
    if (!/^(\$ )?([A-Za-z_][A-Za-z0-9_]*=\S+ )*recover /.test(start)) continue
    let text = start.replace(/^\$ /, '')
    while (text.endsWith(' \\') && i + 1 < lines.length) text += `\n${lines[++i]!}`
    out.push(text)
  }
  return out
}

test('every example of every command, rendered at 80 columns, fits and pastes into a shell as the same arguments', () => {
  const problems: string[] = []
  for (const [id, command] of Object.entries(manifest.commands)) {
    if (command.hidden || !command.examples?.length) continue
    const run = recover([...id.split(':'), '--help'], { OCLIF_COLUMNS: '80' })
    assert.is(run.status, 0, run.stderr)
    const examples = run.stdout.slice(run.stdout.indexOf('\nEXAMPLES\n'))
    for (const line of examples.split('\n')) if (line.length > 80) problems.push(`${id}: a line of ${line.length} columns: ${line}`)
    const written = writtenCommands(command.examples).map(shellArguments)
    const copied = copiedCommands(run.stdout).map(shellArguments)
    if (JSON.stringify(copied) !== JSON.stringify(written))
      problems.push(`${id}: pasted examples differ\n  written: ${JSON.stringify(written)}\n  copied:  ${JSON.stringify(copied)}`)
  }
  assert.equal(problems, [])
})

test('oclif alone would have cut a URL in a replay example at 80 columns: the check above can fail', () => {
  const url = '"postgres://postgres@127.0.0.1:5432/test?table=orders_fixed&key=order_id"'
  const cut = `recover replay --sink "postgres: \\\n      //postgres@127.0.0.1:5432/test?table=orders_fixed&key=order_id"`
  assert.not.equal(shellArguments(cut), shellArguments(`recover replay --sink ${url}`))
  const wrapped = wrapShellWords(`recover replay --topic orders --value-format avro --sink ${url} --create-table`, 72)
  assert.ok(wrapped.includes(url), 'the URL keeps a line of its own, whole')
})

test('shell words: quotes keep spaces, a line break inside single quotes is part of the argument', () => {
  assert.equal(rawShellWords(`recover find --where 'header app-version = 1.6.0' --json`), [
    'recover',
    'find',
    '--where',
    "'header app-version = 1.6.0'",
    '--json',
  ])
  assert.equal(shellArguments(`a "b c" 'd e' f\\ g \\\n  h`), ['a', 'b c', 'd e', 'f g', 'h'])
  assert.equal(shellArguments(`a 'b \\\n  c'`), ['a', 'b \\\n  c'])
  assert.equal(wrapShellWords(`recover find --where 'header app-version = 1.6.0' --topic orders`, 30), [
    'recover find --where',
    "'header app-version = 1.6.0'",
    '--topic orders',
  ])
})

test("every topic has a description of its own in package.json, shown by recover --help, not one of its commands' summaries", () => {
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { oclif: { topics: Record<string, { description: string }> } }
  const summaries = manifest.commands as Record<string, { summary?: string }>
  const topics = [
    ...new Set(
      Object.keys(manifest.commands)
        .filter((id) => id.includes(':'))
        .map((id) => id.split(':')[0]!),
    ),
  ]
  const help = recover(['--help'], { OCLIF_COLUMNS: '250' }).stdout
  for (const topic of topics) {
    const description = pjson.oclif.topics[topic]?.description
    assert.ok(description, `package.json oclif.topics has no description for "${topic}"`)
    for (const [id, command] of Object.entries(summaries)) if (id.startsWith(`${topic}:`)) assert.is.not(description, command.summary)
    assert.match(help, new RegExp(`^  ${topic} +${description.slice(0, 40).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'))
  }
})

test('a misspelt command suggests the nearest one, with its topic when it has one', () => {
  const ids = Object.keys(manifest.commands)
  const topics = [...new Set(ids.filter((id) => id.includes(':')).map((id) => id.split(':')[0]!))]
  assert.equal(suggestCommands('sek', ids, topics)[0], 'seek')
  assert.equal(suggestCommands('topcis', ids, topics), ['topics'])
  assert.equal(suggestCommands('quarantine:lst', ids, topics), ['quarantine list'])
  assert.equal(suggestCommands('topics:descibe', ids, topics), ['topics describe'])
  assert.equal(suggestCommands('xyzzy', ids, topics), [])
})

test('recover with a misspelt command exits 2 naming the nearest command, on stderr or as --json', () => {
  const typo = recover(['quarantine', 'lst'])
  assert.is(typo.status, 2)
  assert.match(
    typo.stderr,
    /^Error: "recover quarantine lst" is not a command; did you mean "recover quarantine list"\?\n {2}→ recover quarantine list --help\n/,
  )
  assert.is(typo.stdout, '')
  const json = recover(['grups', '--json'])
  assert.is(json.status, 2)
  const error = (JSON.parse(json.stdout) as { error: { code: string; details: { suggestions: string[] } } }).error
  assert.is(error.code, 'USAGE')
  assert.equal(error.details.suggestions, ['groups'])
  const nothing = recover(['xyzzy'])
  assert.is(nothing.status, 2)
  assert.match(nothing.stderr, '"recover --help" lists them all')
})

test.run()
