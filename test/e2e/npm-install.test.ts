import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { commitOffsets, createTopic, produce, testBrokers, uniqueName } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { waitFor, withTimeout } from '../support/timeout.js'

const run = promisify(execFile)
const work = mkdtempSync(join(tmpdir(), 'recover-npm-install-'))
const prefix = join(work, 'prefix')
const recover = join(prefix, 'bin', 'recover')
const installed = join(prefix, 'lib', 'node_modules', 'kafka-recover')
/** A user's folder far from the clone: nothing in it or above it resolves the repository's node_modules. */
const elsewhere = mkdtempSync(join(tmpdir(), 'recover-user-'))
/** PATH without the clone's node_modules/.bin, as in a fresh shell. */
const userEnv = { PATH: `${join(prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin`, HOME: elsewhere, RECOVER_HOME: join(elsewhere, '.recover') }

let packed: { filename: string; files: Array<{ path: string }> }

test.after(() => rmSync(work, { recursive: true, force: true }))

/** Every file under `dir` with its modification time: what a run wrote into the installed package shows here. */
function listing(dir: string): Map<string, number> {
  const out = new Map<string, number>()
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name)
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(path)
      } else out.set(relative(dir, path), statSync(path).mtimeMs)
    }
  }
  walk(dir)
  return out
}

function recoverIn(cwd: string, args: string[], env: Record<string, string> = {}) {
  return run(recover, args, { cwd, env: { ...userEnv, ...env }, maxBuffer: 16 * 1024 * 1024 })
}

test(
  'npm pack ships the built CLI, the local-Kafka helper and fixtures, and no test keys, tests or source maps',
  withTimeout(120_000, async () => {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: repoRoot(), maxBuffer: 16 * 1024 * 1024 })
    // npm prints the prepack script's output before the JSON.
    packed = JSON.parse(stdout.slice(stdout.indexOf('[')))[0]
    const files = packed.files.map((f) => f.path)
    for (const needed of [
      'bin/run.js',
      'oclif.manifest.json',
      'dist/help-snapshot.json',
      'dist/src/cli/oclif.js',
      'dist/src/local-kafka/cli.js',
      'test/broker/pom.xml',
      'test/broker/log4j2.properties',
      'fixtures/schemas/ids.json',
      'fixtures/schemas/orders-v1.avsc',
      'docs/runbooks/poison-pill.md',
      'plugins/fix-bad-deploy.ts',
      'src/plugin-api.ts',
    ])
      assert.ok(files.includes(needed), `${needed} is not in the package`)
    assert.equal(
      files.filter(
        (f) => f.startsWith('fixtures/tls') || f.startsWith('dist/test') || (f.startsWith('test/') && !f.startsWith('test/broker/')) || f.endsWith('.map'),
      ),
      [],
    )
  }),
)

test(
  'npm install -g of the tarball into a clean prefix gives a working recover: --version, seek --help',
  withTimeout(180_000, async () => {
    const tarball = join(work, packed.filename)
    const install = (mode: string) => run('npm', ['install', '-g', '--prefix', prefix, mode, '--no-audit', '--no-fund', tarball], { cwd: work })
    // --offline uses the npm cache `npm ci` filled (seconds); a cold cache needs the registry.
    const started = Date.now()
    await install('--offline').catch(() => install('--prefer-offline'))
    process.stderr.write(`\n[npm-install] npm install -g of ${packed.filename} took ${((Date.now() - started) / 1000).toFixed(1)} s\n`)

    const version = await recoverIn(elsewhere, ['--version'])
    const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }
    assert.match(version.stdout, `kafka-recover/${pkg.version}`)
    const help = await recoverIn(elsewhere, ['seek', '--help'])
    assert.match(help.stdout, '$ recover seek')
    assert.match(help.stdout, 'EXAMPLES')
  }),
)

test(
  'the installed recover plans a seek against the broker and loads a TypeScript plugin from a folder outside the repository',
  withTimeout(120_000, async () => {
    const before = listing(installed)
    const topic = uniqueName('npm-install')
    const group = uniqueName('npm-install-group')
    const T0 = Date.UTC(2026, 0, 1)
    await createTopic(topic, 1)
    await produce(
      topic,
      [0, 1, 2, 3].map((i) => ({ partition: 0, key: `k${i}`, value: `{"i":${i}}`, timestampMs: T0 + i * 60_000, headers: { 'app-version': `1.${i}.0` } })),
    )
    await commitOffsets(group, topic, [{ partition: 0, offset: 4 }])
    const brokers = { RECOVER_BROKERS: testBrokers() }

    const seek = await recoverIn(elsewhere, ['seek', '--group', group, '--to', new Date(T0 + 2 * 60_000).toISOString(), '--json'], brokers)
    const plan = JSON.parse(seek.stdout) as { applied: boolean; plan: { rows: Array<{ partition: number; currentOffset: string; newOffset: string }> } }
    assert.is(plan.applied, false)
    assert.equal(
      plan.plan.rows.map((r) => [r.partition, r.currentOffset, r.newOffset]),
      [[0, '4', '2']],
    )

    // Real TypeScript (types, an interface), both import specifiers, and no node_modules anywhere near it.
    const plugin = join(elsewhere, 'mark-version.ts')
    writeFileSync(
      plugin,
      `import { defineTransform } from 'kafka-recover/plugin-api'
import { headerText, type ReplayRecord } from 'recover/plugin-api'

interface Marked { i: number; from: string }

export default defineTransform({
  name: 'mark-version',
  version: '1.0.0',
  transform(record: ReplayRecord<{ i: number }>) {
    const marked: Marked = { i: record.value.i, from: headerText(record, 'app-version') ?? 'none' }
    return { ...record, value: marked }
  },
})
`,
    )
    const out = join(elsewhere, 'out.jsonl')
    const replay = await recoverIn(
      elsewhere,
      ['replay', '--topic', topic, '--value-format', 'json', '--transform', plugin, '--sink', `file:${out}`, '--json'],
      brokers,
    )
    assert.is((JSON.parse(replay.stdout) as { transform: { name: string } }).transform.name, 'mark-version')
    const values = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(Buffer.from((JSON.parse(line) as { value: string }).value, 'base64').toString()) as unknown)
    assert.equal(
      values,
      [0, 1, 2, 3].map((i) => ({ i, from: `1.${i}.0` })),
    )

    assert.equal(
      [...listing(installed)].filter(([file, mtime]) => before.get(file) !== mtime),
      [],
      'recover wrote into its installed package',
    )
  }),
)

test(
  'the installed local-Kafka helper caches its jars in the user cache, not in the package, and starts a broker',
  withTimeout(180_000, async () => {
    const before = listing(installed)
    const cache = join(elsewhere, 'cache')
    const helper = spawn(process.execPath, [join(installed, 'dist', 'src', 'local-kafka', 'cli.js')], {
      cwd: elsewhere,
      env: { ...process.env, ...userEnv, XDG_CACHE_HOME: cache },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    helper.stdout.on('data', (c: Buffer) => (output += c.toString()))
    helper.stderr.on('data', (c: Buffer) => (output += c.toString()))
    const exited = new Promise<number | null>((resolve) => helper.on('close', (code) => resolve(code)))
    try {
      const brokers = await waitFor('the installed helper to start Kafka', () => /--brokers (\S+)/.exec(output)?.[1], 150_000, 200).catch((error: Error) => {
        throw new Error(`${error.message}\n--- helper output ---\n${output}`)
      })
      const groups = await recoverIn(elsewhere, ['groups', '--json'], { RECOVER_BROKERS: brokers })
      assert.equal((JSON.parse(groups.stdout) as { groups: unknown[] }).groups, [])
      assert.match(output, join(cache, 'recover', 'kafka'))
      const versions = readdirSync(join(cache, 'recover', 'kafka'))
      assert.is(versions.length, 1)
      assert.ok(readdirSync(join(cache, 'recover', 'kafka', versions[0]!, 'lib')).some((jar) => jar.startsWith('kafka_2.13-')))
    } finally {
      helper.kill('SIGINT')
      await exited
    }
    assert.equal(
      [...listing(installed)].filter(([file, mtime]) => before.get(file) !== mtime),
      [],
      'the helper wrote into its installed package',
    )
  }),
)

test.run()
