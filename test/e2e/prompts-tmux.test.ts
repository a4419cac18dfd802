/**
 * The answers a person gives at recover's [y/N] prompts, in a real terminal (tmux): Ctrl-C ends
 * the command with 130 and one line (never "a bug"), "n" or Enter with DECLINED (exit 4), and
 * in both cases the group's offsets are exactly as before.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { commitOffsets, createTopic, produce, readCommitted, testBrokers, uniqueName } from '../support/kafka.js'
import { TerminalSession } from '../support/terminal.js'
import { withTimeout } from '../support/timeout.js'

const sessions: TerminalSession[] = []
test.after.each(() => {
  for (const s of sessions.splice(0)) s.close()
})

/** A topic of 5 records on one partition and a group (no members) committed at 2. */
async function setup() {
  const topic = uniqueName('prompt-orders')
  const group = uniqueName('prompt-billing')
  const cwd = mkdtempSync(join(tmpdir(), 'recover-prompt-'))
  await createTopic(topic, 1)
  await produce(
    topic,
    [0, 1, 2, 3, 4].map((i) => ({ partition: 0, key: `k${i}`, value: `{"i":${i}}`, timestampMs: Date.now() - 60_000 + i })),
  )
  await commitOffsets(group, topic, [{ partition: 0, offset: 2 }])
  const before = await readCommitted(group)
  assert.equal(before, { [`${topic}-0`]: '2' })
  return { topic, group, cwd, before }
}

function terminal(args: string[], cwd: string): TerminalSession {
  const session = new TerminalSession(args, { cwd, env: { RECOVER_BROKERS: testBrokers(), RECOVER_HOME: join(cwd, 'home') } })
  sessions.push(session)
  return session
}

/** A runbook of two steps: a read-only look at the group, then a destructive skip of one record. */
function skipRunbook(dir: string): string {
  writeFileSync(
    join(dir, 'skip-one.md'),
    [
      '# Skip one record',
      '',
      'For the prompt tests.',
      '',
      '```runbook-vars',
      'group: The group.',
      'topic: The topic.',
      '```',
      '',
      'Where the group is:',
      '',
      '```recover',
      'recover groups describe --group {{group}}',
      '```',
      '',
      'Skip one record:',
      '',
      '```recover destructive',
      'recover seek --group {{group}} --topic {{topic}}:0 --shift-by 1 --execute',
      '```',
      '',
    ].join('\n'),
  )
  return dir
}

test(
  'Ctrl-C at seek --execute\'s [y/N]: exit 130, one line, no "bug", the offsets unchanged',
  withTimeout(90_000, async () => {
    const s = await setup()
    const term = terminal(['seek', '--group', s.group, '--topic', `${s.topic}:0`, '--shift-by', '1', '--execute'], s.cwd)
    await term.shows('[y/N]')
    term.keys('C-c')
    assert.is(await term.exitStatus(), 130, term.screen())
    assert.equal(term.linesAfter('[y/N]'), ['Interrupted at the prompt: nothing was changed.'], term.screen())
    assert.not.match(term.screen(), /bug|AbortError| {4}at /)
    assert.equal(await readCommitted(s.group), s.before)
  }),
)

test(
  '"n" at seek --execute\'s [y/N]: DECLINED, exit 4, the offsets unchanged; Enter alone is no too',
  withTimeout(120_000, async () => {
    const s = await setup()
    for (const answer of [['n', 'Enter'], ['Enter']]) {
      const term = terminal(['seek', '--group', s.group, '--topic', `${s.topic}:0`, '--shift-by', '1', '--execute'], s.cwd)
      await term.shows('[y/N]')
      term.keys(...answer)
      assert.is(await term.exitStatus(), 4, term.screen())
      assert.match(term.screen(), 'Error: Not applied: the answer was no, so nothing was changed.')
      assert.equal(await readCommitted(s.group), s.before)
    }
  }),
)

test(
  'Ctrl-C at a runbook\'s destructive step: exit 130, one line, no "bug", the step not run, the offsets unchanged',
  withTimeout(120_000, async () => {
    const s = await setup()
    const dir = skipRunbook(s.cwd)
    const term = terminal(['runbook', 'run', 'skip-one', '--dir', dir, '--var', `group=${s.group}`, '--var', `topic=${s.topic}`], s.cwd)
    await term.shows('Run destructive step 2')
    await term.shows('[y/N]')
    term.keys('C-c')
    assert.is(await term.exitStatus(), 130, term.screen())
    const after = term.linesAfter('[y/N]')
    assert.is(after[0], 'Interrupted at the prompt of step 2: step 1 ran, step 2 and the steps after it did not.', term.screen())
    assert.ok(
      after.slice(1).every((l) => l.startsWith('  → ')),
      term.screen(),
    )
    assert.not.match(term.screen(), /bug|AbortError| {4}at /)
    assert.equal(await readCommitted(s.group), s.before)
  }),
)

test(
  '"n" at a runbook\'s destructive step: DECLINED, exit 4, the offsets unchanged',
  withTimeout(120_000, async () => {
    const s = await setup()
    const dir = skipRunbook(s.cwd)
    const term = terminal(['runbook', 'run', 'skip-one', '--dir', dir, '--var', `group=${s.group}`, '--var', `topic=${s.topic}`], s.cwd)
    await term.shows('[y/N]')
    term.keys('n', 'Enter')
    assert.is(await term.exitStatus(), 4, term.screen())
    assert.match(term.screen(), 'Error: Runbook skip-one stopped at step 2: the answer was no')
    assert.equal(await readCommitted(s.group), s.before)
  }),
)

test(
  "the demo's pause: q stops without Enter (exit 0); Ctrl-C ends it with 130 and one line",
  withTimeout(120_000, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'recover-prompt-demo-'))
    const stop = terminal(['demo', '--brokers', testBrokers(), '--count', '200'], cwd)
    await stop.shows('Press Enter to run it (q to stop)')
    stop.keys('q')
    assert.is(await stop.exitStatus(), 0, stop.screen())
    assert.match(stop.screen(), 'Stopped before the end, as asked.')

    const interrupt = terminal(['demo', '--brokers', testBrokers(), '--count', '200'], cwd)
    await interrupt.shows('Press Enter to run it (q to stop)')
    interrupt.keys('C-c')
    assert.is(await interrupt.exitStatus(), 130, interrupt.screen())
    assert.equal(interrupt.linesAfter('Press Enter to run it'), ['Interrupted at the prompt: the demo stopped before step 1 of 7.'], interrupt.screen())
  }),
)

test(
  'Ctrl-C at the pause of a demo on its own broker: exit 130, and the broker is stopped and its data removed all the same',
  withTimeout(180_000, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'recover-prompt-demo-own-'))
    const term = terminal(['demo', '--count', '200'], cwd)
    await term.shows('Press Enter to run it (q to stop)', 150_000)
    const started = /Formatted KRaft storage in (\S+) .*\n.*\(pid (\d+)\)/.exec(term.screen())
    assert.ok(started, term.screen())
    const [, dataDir, pid] = started
    assert.ok(isRunning(Number(pid)), 'the broker runs while the demo waits')
    term.keys('C-c')
    assert.is(await term.exitStatus(60_000), 130, term.screen())
    assert.match(term.screen(), 'Interrupted at the prompt: the demo stopped before step 1 of 7 and stops its local broker.')
    assert.not.match(term.screen(), /bug|AbortError/)
    assert.not.ok(isRunning(Number(pid)), `broker pid ${pid} still runs`)
    assert.not.ok(existsSync(dataDir!), `${dataDir} is still there`)
  }),
)

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test.run()
