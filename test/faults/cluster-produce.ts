import { spawn } from 'node:child_process'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import type { LocalKafkaCluster } from '../../src/local-kafka/index.js'
import { uniqueName } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { waitFor } from '../support/timeout.js'
import { createSinkTopic } from './cluster-replay.js'
import { dumpForInspection, readTopicValues, type FaultScenario } from './fault-support.js'

const PARTITIONS = 3
/** The producer's limit; the scenario ends it once the faults are over. */
const SECONDS = 120

/**
 * Scenario C7: a producer built the way recover builds its clients (createKafka) sends
 * continuously, every send spanning all three brokers, while the leader of one partition is
 * killed -9 and restarted, then moved to the leader of another partition (a preferred leader
 * election). Every send Kafka acknowledged must be in the topic. kafkajs's own
 * send lost the records of the dead leader's partition when Kafka moved it to a broker that had
 * already answered in that send (the send resolved without them); recover puts its own send
 * in place (src/kafka/send-messages.ts). Sends that failed may or may not have been written.
 */
export function acknowledgedSendsScenario(cluster: () => LocalKafkaCluster, mode: 'recover' | 'kafkajs-first' = 'recover'): FaultScenario {
  return {
    id: mode === 'recover' ? 'c7-send' : 'c7-kafkajs-send',
    title: `3 brokers: a producer's sends across all brokers while a partition leader is killed -9, restarted, moved: every acknowledged record is there${mode === 'recover' ? '' : " (kafkajs's own send)"}`,
    timeoutMs: 120_000,
    async run(log) {
      const c = cluster()
      const topic = uniqueName('cluster-send')
      await createSinkTopic(c.brokers, topic)
      const child = spawn(
        process.execPath,
        [join(repoRoot(), 'dist', 'test', 'faults', 'acknowledged-send-child.js'), c.brokers, topic, String(PARTITIONS), String(SECONDS), mode],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
      try {
        await waitFor('the producer under way', () => ((stdout.match(/^ok /gm)?.length ?? 0) >= 20 ? true : undefined), 60_000, 20)
        const victim = await c.leaderOf(topic, 0)
        const node = c.node(victim)
        node.kill('SIGKILL')
        await node.whenExited()
        log(`  killed (-9) broker ${victim}, leader of ${topic} partition 0, after ${stdout.match(/^ok /gm)!.length} acknowledged sends`)
        await node.restart()
        await c.waitForFullIsr(topic)
        log(`  broker ${victim} restarted and in sync`)
        // A controlled move too: partition 0 to a broker that leads another partition, which answers
        // for its own partition in the very sends that then get NOT_LEADER for partition 0.
        const now = await c.leaderOf(topic, 0)
        const others = [await c.leaderOf(topic, 1), await c.leaderOf(topic, 2)].filter((l) => l !== now)
        const target = others[0]!
        const replicas = (await c.placement(topic)).find((p) => p.partition === 0)!.replicas
        await c.reassign(topic, 0, [target, ...replicas.filter((r) => r !== target)])
        const election = await c.electPreferredLeaders()
        log(
          `  partition 0 moved from broker ${now} to broker ${await c.leaderOf(topic, 0)} (preferred leader election exit ${election.exitCode}), the leader of another partition`,
        )
        const sendsBefore = stdout.match(/^ok /gm)?.length ?? 0
        await waitFor('more sends after the move', () => ((stdout.match(/^ok /gm)?.length ?? 0) >= sendsBefore + 20 ? true : undefined), 30_000, 20).catch(
          (e: Error) => {
            throw new Error(`${e.message}: ${stdout.split('\n').slice(-6).join('\n')}`)
          },
        )
        child.kill('SIGTERM')
        const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 30_000).unref())])
        assert.is(code, 0, `the producer ended: ${stderr}\n${stdout.split('\n').slice(-6).join('\n')}`)
        const acknowledged: number[] = []
        let failed = 0
        for (const line of stdout.split('\n')) {
          const m = /^(ok|fail) (\d+) (\d+)/.exec(line)
          if (!m) continue
          if (m[1] === 'fail') failed++
          else for (let id = Number(m[2]); id <= Number(m[3]); id++) acknowledged.push(id)
        }
        const found = new Map<number, number>()
        for (const v of await readTopicValues(c.runningBrokers(), topic)) {
          const id = (JSON.parse(v.toString()) as { id: number }).id
          found.set(id, (found.get(id) ?? 0) + 1)
        }
        const lost = acknowledged.filter((id) => !found.has(id))
        const dumped = dumpForInspection(c.runningBrokers(), topic, { 'producer.txt': stdout })
        if (dumped) log(`  dumps in ${dumped}`)
        const duplicated = acknowledged.filter((id) => (found.get(id) ?? 0) > 1).length
        log(`  ${acknowledged.length} records acknowledged (${failed} sends failed): ${lost.length} lost, ${duplicated} duplicated`)
        assert.is(lost.length, 0, `acknowledged and not in the topic: ids ${lost.slice(0, 12).join(', ')}${lost.length > 12 ? '…' : ''}`)
        assert.is(duplicated, 0, 'an idempotent producer writes an acknowledged record once')
        return { faults: 2, recordsIn: acknowledged.length, recordsOut: acknowledged.length - lost.length, lost: lost.length, duplicated, notes: [] }
      } finally {
        child.kill('SIGKILL')
      }
    },
  }
}
