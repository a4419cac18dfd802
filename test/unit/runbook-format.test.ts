import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { splitCommandLine, CommandLineError } from '../../src/core/command-line.js'
import { parseRunbook, parseVarFlags, resolveRunbookVariables, stepArguments, RunbookFormatError } from '../../src/core/runbook.js'
import { buildDemoSteps, DEMO_STEPS, type DemoContext } from '../../src/demo/demo-steps.js'
import { repoRoot } from '../support/paths.js'

const SAMPLE = `# Skip a pill

One record stops the consumer.
It stays stopped.

\`\`\`runbook-vars
group = billing: The group.
offset: The pill's offset.
\`\`\`

## Confirm

Where the group is:

\`\`\`recover
recover groups describe --group {{group}}
\`\`\`

\`\`\`sh
echo not a step
\`\`\`

## Recover

Skip it,
one record:

\`\`\`recover destructive
recover seek --group "{{group}}" \\
  --to-offset {{offset}} --execute
\`\`\`

## Roll back

\`\`\`recover rollback destructive
recover seek --group {{group}} --undo --execute
\`\`\`
`

test('command lines split like a shell for quotes, escapes and continued lines', () => {
  assert.equal(splitCommandLine(`recover a --x 'b c' "d \\"e\\"" f\\ g \\\n --y`), ['recover', 'a', '--x', 'b c', 'd "e"', 'f g', '--y'])
  assert.equal(splitCommandLine(`recover audit duplicates --fail-on "duplicates>0"`), ['recover', 'audit', 'duplicates', '--fail-on', 'duplicates>0'])
  assert.throws(
    () => splitCommandLine('recover groups | grep x'),
    (e: unknown) => e instanceof CommandLineError,
  )
  assert.throws(
    () => splitCommandLine('recover peek --at "unclosed'),
    (e: unknown) => e instanceof CommandLineError,
  )
})

test('a runbook gives its title, summary, variables and steps with their sections, titles and markers', () => {
  const r = parseRunbook('skip', SAMPLE)
  assert.is(r.title, 'Skip a pill')
  assert.is(r.summary, 'One record stops the consumer. It stays stopped.')
  assert.equal(r.variables, [
    { name: 'group', description: 'The group.', default: 'billing' },
    { name: 'offset', description: "The pill's offset." },
  ])
  assert.equal(
    r.steps.map((s) => [s.number, s.section, s.title, s.destructive, s.rollback]),
    [
      [1, 'Confirm', 'Where the group is', false, false],
      [2, 'Recover', 'Skip it, one record', true, false],
      [3, 'Roll back', 'Roll back', true, true],
    ],
  )
  assert.equal(r.steps[1]!.words, ['recover', 'seek', '--group', '{{group}}', '--to-offset', '{{offset}}', '--execute'])
})

test('variables come from --var, then defaults; values are never split into words', () => {
  const r = parseRunbook('skip', SAMPLE)
  const { values, missing, unknown } = resolveRunbookVariables(r, parseVarFlags(['offset=12', 'group=two words']))
  assert.equal([missing, unknown], [[], []])
  assert.equal(stepArguments(r.steps[1]!, values), ['seek', '--group', 'two words', '--to-offset', '12', '--execute'])
  assert.equal(resolveRunbookVariables(r, {}).missing, ['offset'])
  assert.equal(resolveRunbookVariables(r, { offset: '1', nope: 'x' }).unknown, ['nope'])
  assert.throws(
    () => parseVarFlags(['novalue']),
    (e: unknown) => e instanceof CommandLineError,
  )
})

test('broken runbooks are refused with the line: undeclared variable, unknown marker, not a recover command', () => {
  const line = (text: string) => {
    try {
      parseRunbook('x', text)
    } catch (error) {
      if (error instanceof RunbookFormatError) return [error.line, error.message]
      throw error
    }
    return undefined
  }
  assert.equal(line('# T\n\n```recover\nrecover groups --group {{nope}}\n```\n'), [4, '{{nope}} is not declared in the runbook-vars block'])
  assert.match(String(line('# T\n\n```recover dangerous\nrecover groups\n```\n')?.[1]), /unknown step marker "dangerous"/)
  assert.match(String(line('# T\n\n```recover\nkafka-topics --list\n```\n')?.[1]), /one "recover …" command/)
  assert.match(String(line('# T\n\n```recover\nrecover groups\n')?.[1]), /never closed/)
})

test('every runbook in docs/runbooks parses, with Symptoms, Confirm, Recover (or Decide), Verify and Roll back sections', () => {
  const dir = join(repoRoot(), 'docs', 'runbooks')
  const files = readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md')
  assert.ok(files.length >= 5)
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8')
    const r = parseRunbook(file, text)
    for (const section of ['Symptoms', 'Confirm', 'Verify', 'Roll back']) assert.ok(text.includes(`\n## ${section}`), `${file} has ## ${section}`)
    // An audit-only runbook decides instead of recovering.
    assert.ok(/\n## (Recover|Decide)/.test(text), `${file} has ## Recover`)
    assert.ok(r.steps.some((s) => s.destructive) || file === 'duplicate-storm.md', `${file} changes something`)
  }
})

test('the demo steps are the recovery in order, and a builder returning undefined leaves its step out', () => {
  const ctx: DemoContext = {
    topic: 'orders',
    group: 'billing',
    window: { from: '2018-03-21T00:00', to: '2018-03-21T02:00' },
    schemaDir: 'fixtures/schemas',
    transform: 'plugins/fix-bad-deploy.ts',
    workDir: '.recover/demo/x',
    sink: { uri: 'postgres://pg/db?table=t&key=order_id', replayArgs: ['--create-table'], describe: 'x', compareArgs: [] },
    commands: new Set(),
  }
  assert.equal(
    buildDemoSteps(ctx).map((s) => s.id),
    ['groups-describe', 'peek', 'seek-dry-run', 'seek-execute', 'replay', 'audit-duplicates'],
  )
  // With quarantine list registered, the quarantine is looked at right after the replay.
  assert.equal(
    buildDemoSteps({ ...ctx, commands: new Set(['quarantine:list']) }).map((s) => s.id),
    ['groups-describe', 'peek', 'seek-dry-run', 'seek-execute', 'replay', 'quarantine-list', 'audit-duplicates'],
  )
  assert.equal(buildDemoSteps(ctx, [...DEMO_STEPS, () => undefined]).length, buildDemoSteps(ctx).length)
  const replay = buildDemoSteps(ctx).find((s) => s.id === 'replay')!.argv
  assert.equal(replay.slice(-3), ['--sink', 'postgres://pg/db?table=t&key=order_id', '--create-table'])
})

test.run()
