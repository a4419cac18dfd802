import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { HELP_SNAPSHOT_FILE } from '../../src/cli/help-snapshot.js'
import { repoRoot } from '../support/paths.js'

// bin/run.js answers --help and --version from the build's snapshot of oclif's config
// (src/cli/fast-help.ts). Whatever it prints must be exactly what oclif prints: each case runs
// through both in child processes (oclif's main.run, as bin/run.js ran it before), under several
// widths and with colour forced on.

const root = repoRoot()
const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, unknown> }
const commandIds = Object.keys(manifest.commands)
const topics = [...new Set(commandIds.filter((id) => id.includes(':')).map((id) => id.split(':')[0]!))]

const answered: string[][] = [
  [],
  ['--help'],
  ['--version'],
  ['--help', 'seek'],
  ['seek', '--group', 'billing', '--help'],
  ['help', '--help'],
  ...commandIds.map((id) => [...id.split(':'), '--help']),
  ...topics.map((topic) => [topic, '--help']),
]
const declined: string[][] = [['no-such-command', '--help'], ['seek', '--', '--help'], ['seek'], ['groups', 'describe']]

/** Runs each argv in one child: through the fast path (printing nothing when it declines) or through oclif. */
function render(via: 'fast' | 'oclif', cases: string[][], env: Record<string, string>, at = root): Array<{ answered: boolean; out: string }> {
  const script = `
    import { createRequire } from 'node:module'
    const cases = ${JSON.stringify(cases)}
    const root = ${JSON.stringify(at)}
    const require = createRequire(root + '/package.json')
    let out = ''
    const write = process.stdout.write.bind(process.stdout)
    const results = []
    for (const argv of cases) {
      out = ''
      process.stdout.write = (chunk) => ((out += chunk), true)
      let answered = true
      try {
        if (${JSON.stringify(via)} === 'fast') answered = await (await import(${JSON.stringify(join(root, 'dist/src/cli/fast-help.js'))})).showHelpFast(argv, root)
        else await require('@oclif/core/run').run(argv, root + '/bin/run.js')
      } finally {
        process.stdout.write = write
      }
      results.push({ answered, out })
    }
    process.stdout.write(JSON.stringify(results))
  `
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH, ...env } })
  assert.is(child.status, 0, child.stderr)
  return JSON.parse(child.stdout) as Array<{ answered: boolean; out: string }>
}

function freshHome(): string {
  return mkdtempSync(join(tmpdir(), 'recover-help-home-'))
}

for (const env of [{}, { OCLIF_COLUMNS: '40' }, { OCLIF_COLUMNS: '132', FORCE_COLOR: '1' }] as Array<Record<string, string>>) {
  test(`--help and --version print exactly what oclif prints (${JSON.stringify(env)})`, () => {
    const home = freshHome()
    try {
      const fast = render('fast', answered, { ...env, HOME: home })
      const oclif = render('oclif', answered, { ...env, HOME: home })
      answered.forEach((argv, i) => {
        assert.ok(fast[i]!.answered, `the fast path declined ${argv.join(' ')}`)
        assert.ok(oclif[i]!.out.length > 0, `oclif printed nothing for ${argv.join(' ')}`)
        assert.is(fast[i]!.out, oclif[i]!.out, `recover ${argv.join(' ')}`)
      })
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
}

test('what oclif answers with an error or by running the command is left to oclif, printing nothing', () => {
  const home = freshHome()
  try {
    for (const [i, result] of render('fast', declined, { HOME: home }).entries()) {
      assert.equal(result, { answered: false, out: '' }, declined[i]!.join(' '))
    }
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
})

test('plugins a user installed, a colour theme or debug output leave --help to oclif', () => {
  const home = freshHome()
  try {
    mkdirSync(join(home, '.local', 'share', 'recover'), { recursive: true })
    writeFileSync(join(home, '.local', 'share', 'recover', 'package.json'), '{"oclif":{"plugins":[]}}')
    assert.equal(render('fast', [['--help']], { HOME: home }), [{ answered: false, out: '' }])
    rmSync(join(home, '.local'), { recursive: true })
    mkdirSync(join(home, 'cfg', 'recover'), { recursive: true })
    writeFileSync(join(home, 'cfg', 'recover', 'theme.json'), '{"flag":"red"}')
    assert.equal(render('fast', [['--help']], { HOME: home, XDG_CONFIG_HOME: join(home, 'cfg') }), [{ answered: false, out: '' }])
    assert.equal(render('fast', [['--help']], { HOME: home, DEBUG: '*' }), [{ answered: false, out: '' }])
    assert.equal(render('fast', [['--version']], { HOME: home, RECOVER_DEBUG: '1' }), [{ answered: false, out: '' }])
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
})

test('a snapshot older than the command manifest is not used', () => {
  const home = freshHome()
  const copy = mkdtempSync(join(tmpdir(), 'recover-help-root-'))
  try {
    for (const file of ['package.json', 'oclif.manifest.json', HELP_SNAPSHOT_FILE]) cpSync(join(root, file), join(copy, file))
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'))
    assert.equal(render('fast', [['--version']], { HOME: home }, copy), [
      { answered: true, out: `${render('oclif', [['--version']], { HOME: home })[0]!.out}` },
    ])
    writeFileSync(join(copy, 'oclif.manifest.json'), readFileSync(join(root, 'oclif.manifest.json'), 'utf8').replace('Move a consumer group', 'Move a group'))
    assert.equal(render('fast', [['--version']], { HOME: home }, copy), [{ answered: false, out: '' }])
  } finally {
    rmSync(home, { recursive: true, force: true })
    rmSync(copy, { recursive: true, force: true })
  }
})

test('bin/run.js prints the root help and exits 0 like oclif', () => {
  const home = freshHome()
  try {
    const child = spawnSync(process.execPath, [join(root, 'bin', 'run.js'), '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: home } })
    assert.is(child.status, 0)
    assert.is(child.stdout, render('oclif', [['--help']], { HOME: home })[0]!.out)
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
})

test.run()
