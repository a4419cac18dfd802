import { watch, mkdtempSync, readdirSync, readFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { KafkaGateway } from '../../src/kafka/kafka-gateway.js'
import type { LocalKafka } from '../../src/local-kafka/index.js'
import { uniqueName } from '../support/kafka.js'
import { runCliTo, seedTopic, startCli, type FaultScenario } from './fault-support.js'

const PARTITIONS = 3
const COMMITTED = 100n
const ATTEMPTS = 5

async function withGateway<T>(brokers: string, work: (g: KafkaGateway) => Promise<T>): Promise<T> {
  const g = await KafkaGateway.open(resolveConnection({ brokers }, { clusters: {}, defaults: {} }))
  try {
    return await work(g)
  } finally {
    await g.close()
  }
}

const committed = (brokers: string, group: string, topic: string) =>
  withGateway(brokers, async (g) => new Map((await g.committedOffsets(group, [topic])).map((c) => [c.partition, c.offset])))

/**
 * Scenario 5: `seek --execute` with the broker killed mid-commit. The broker is frozen the
 * moment the journal snapshot appears (the commit is next), then killed. Expected: exit 5, the
 * journal holds the previous offsets, the message says what is known about which partitions
 * moved and how to undo; after a restart, --undo restores the previous offsets. When the commit
 * wins the race against the freeze, the attempt is reported and repeated.
 */
export function seekBrokerKilledScenario(broker: () => LocalKafka): FaultScenario {
  return {
    id: '5',
    title: 'seek --execute with the broker killed mid-commit, then --undo',
    timeoutMs: 300_000,
    async run(log) {
      const b = broker()
      const topic = uniqueName('fault5')
      const group = uniqueName('fault5-group')
      await seedTopic(b.brokers, topic, 300, PARTITIONS)
      const dir = mkdtempSync(join(tmpdir(), 'recover-fault-5-'))
      let faults = 0
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        await withGateway(b.brokers, (g) =>
          g.commitGroupOffsets(
            group,
            Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: COMMITTED })),
          ),
        )
        const journal = join(dir, `journal-${attempt}`)
        mkdirSync(journal, { recursive: true })
        let frozen = false
        // The journal is written (fsynced, renamed) right before the commit request.
        const watcher = watch(journal, { recursive: true }, () => {
          if (frozen) return
          frozen = b.kill('SIGSTOP')
        })
        const run = startCli(['seek', '--group', group, '--topic', topic, '--to-earliest', '--execute', '--yes', '--journal', journal], {
          cwd: dir,
          brokers: b.brokers,
        })
        let timer: NodeJS.Timeout | undefined
        try {
          // Kill the frozen broker as soon as it is frozen; a commit in flight never gets its answer.
          await new Promise<void>((resolve) => {
            const check = setInterval(() => {
              if (frozen) {
                clearInterval(check)
                resolve()
              }
            }, 1)
            run.done.then(() => {
              clearInterval(check)
              resolve()
            })
            timer = setTimeout(() => run.child.kill('SIGKILL'), 120_000)
          })
          if (frozen) {
            b.kill('SIGKILL')
            b.kill('SIGCONT')
            await b.whenExited()
            faults++
          }
          const { code } = await run.done
          watcher.close()
          if (!frozen || code === 0) {
            log(`  attempt ${attempt}: the commit finished before the broker froze (exit ${code}); again`)
            if (!frozen) continue
          }
          const message = run.stderr()
          log(`  attempt ${attempt}: broker frozen and killed right after the journal was written; seek exit ${code}`)
          for (const line of message.trim().split('\n')) log(`    | ${line}`)
          await b.restart()
          if (code === 0) continue
          assert.is(code, 5, message)
          const files = readdirSync(join(journal, encodeURIComponent(group))).filter((f) => f.endsWith('.csv'))
          assert.is(files.length, 1, files.join(','))
          const rows = readFileSync(join(journal, encodeURIComponent(group), files[0]!), 'utf8')
            .split('\n')
            .filter((l) => l.startsWith(`${group},`))
          assert.equal(
            rows.map((r) => r.split(',')[3]).sort(),
            Array.from({ length: PARTITIONS }, () => String(COMMITTED)),
            'the journal holds the previous offsets',
          )
          assert.match(
            message,
            /^Error: Committing the new offsets of group ".*" failed \(.*\); (which of .* moved is unknown, because Kafka did not answer the read-back|moved: .*|no partition moved).* The previous offsets are in .*\.csv\./m,
          )
          assert.match(message, /restore them with: recover seek --group .* --undo/)
          const afterFault = await committed(b.brokers, group, topic)
          log(`  after the restart the group is at ${[...afterFault].map(([p, o]) => `${p}:${o}`).join(' ')} (committed before: ${COMMITTED} each)`)
          const undo = await runCliTo(['seek', '--group', group, '--undo', '--execute', '--yes', '--journal', journal], {
            cwd: dir,
            brokers: b.brokers,
            timeoutMs: 60_000,
          })
          assert.is(undo.code, 0, undo.stderr)
          const restored = await committed(b.brokers, group, topic)
          log(`  --undo restored ${[...restored].map(([p, o]) => `${p}:${o}`).join(' ')}`)
          const back = [...restored.values()].filter((o) => o === COMMITTED).length
          assert.is(back, PARTITIONS)
          return {
            faults,
            recordsIn: PARTITIONS,
            recordsOut: back,
            lost: PARTITIONS - back,
            duplicated: 0,
            notes: ['records = partition offsets journalled and restored'],
          }
        } finally {
          watcher.close()
          clearTimeout(timer)
        }
      }
      throw new Error(`the commit won the race against the freeze in all ${ATTEMPTS} attempts`)
    },
  }
}
