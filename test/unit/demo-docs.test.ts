import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { buildDemoSteps, chooseDemoSink } from '../../src/demo/demo-steps.js'
import { repoRoot } from '../support/paths.js'

// The demo's help, the README's tour and the steps the demo really runs must tell the same
// story: a new user reads the first two and then watches the third (D16).

const root = repoRoot()
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, { description?: string; summary?: string; examples?: Array<{ command: string }> }>
}
const demoHelp = manifest.commands.demo!
const NUMBERS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten']

async function demoSteps() {
  const sink = await chooseDemoSink({ topic: 'orders', workDir: '.recover/demo/x' })
  return {
    sink,
    steps: buildDemoSteps({
      topic: 'orders',
      group: 'billing',
      window: { from: '2018-03-21T00:00', to: '2018-03-21T02:00' },
      schemaDir: 'fixtures/schemas',
      transform: 'plugins/fix-bad-deploy.ts',
      workDir: '.recover/demo/x',
      sink,
      commands: new Set(Object.keys(manifest.commands)),
    }),
  }
}

/** "groups describe", "seek", …: the command a step runs. */
function commandOf(argv: string[]): string {
  const id = argv.slice(0, 2).join(':')
  return manifest.commands[id] ? argv.slice(0, 2).join(' ') : argv[0]!
}

test("the README's tour gives the number of steps the demo runs, in words and in its step headers", async () => {
  const { steps } = await demoSteps()
  const tour = readme.slice(readme.indexOf('## A 60-second tour'), readme.indexOf('```text', readme.indexOf('## A 60-second tour'))).replace(/\s+/g, ' ')
  assert.match(tour, `${NUMBERS[steps.length]} steps, from \`${commandOf(steps[0]!.argv)}\` to \`${commandOf(steps.at(-1)!.argv)}\``)
  const headers = [...readme.matchAll(/── Step (\d+)\/(\d+): (.+)/g)]
  assert.ok(headers.length > 0)
  for (const [, index, total, title] of headers) {
    assert.is(Number(total), steps.length, `README step header ${index}/${total}`)
    assert.is(title, steps[Number(index) - 1]!.title, `README step ${index}'s title`)
  }
})

test("recover demo --help names the steps' commands in the order they run, and where the replay writes", async () => {
  const { steps, sink } = await demoSteps()
  const description = demoHelp.description ?? ''
  let at = 0
  for (const command of [...new Set(steps.map((s) => commandOf(s.argv)))]) {
    const found = description.indexOf(command, at)
    assert.ok(found >= 0, `demo --help does not name "${command}" after position ${at}: ${description}`)
    at = found
  }
  assert.match(sink.uri, /\.parquet$/)
  assert.match(description, 'into a Parquet file')
  assert.match(readme.replace(/\s+/g, ' '), 'The replay writes a Parquet file')
})

test('the demo writes to PostgreSQL only when named with --postgres: no database found on the machine is used unasked', async () => {
  const { sink } = await demoSteps()
  assert.not.match(sink.uri, /^postgres/)
  assert.match(demoHelp.description ?? '', 'with --postgres URL')
  assert.match(readme.replace(/\s+/g, ' '), 'the demo never writes to a database you did not name')
})

test.run()
