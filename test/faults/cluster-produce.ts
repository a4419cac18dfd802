import { spawn } from 'node:child_process'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import type { LocalKafkaCluster } from '../../src/local-kafka/index.js'
import { uniqueName } from '../support/kafka.js'
import { repoRoot } from '../support/paths.js'
import { waitFor } from '../support/timeout.js'
import { createSinkTopic } from './cluster-replay.js'
import { readTopicValues, type FaultScenario } from './fault-support.js'

const PARTITIONS = 3
const SECONDS = 14

/**
 * Scenario C7: a producer built the way recover builds its clients (createKafka) sends
 * continuously, every send spanning all three brokers, while the leader of one partition is
 * killed -9 and restarted. Every send Kafka acknowledged must be in the topic. kafkajs's own
 * send lost the records of the dead leader's partition when Kafka moved it to a broker that had
 * already answered in that send (the send resolved without them); recover puts its own send
 * in place (src/kafka/send-messages.ts). Sends that failed may or may not have been written.
 */
export function acknowledgedSendsScenario(cluster: () => LocalKafkaCluster, mode: 'recover' | 'kafkajs-first' = 'recover'): FaultScenario {
  return {
    id: mode === 'recover' ? 'c7-send' : 'c7-kafkajs-send',
    title: `3 brokers: a producer's sends across all brokers while a partition leader is killed -9, restarted: every acknowledged record is there${mode === 'recover' ? '' : " (kafkajs's own send)"}`,
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
        log(`  broker ${victim} restarted`)
        assert.is(await exited, 0, stderr)
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
        const duplicated = acknowledged.filter((id) => (found.get(id) ?? 0) > 1).length
        log(`  ${acknowledged.length} records acknowledged (${failed} sends failed): ${lost.length} lost, ${duplicated} duplicated`)
        assert.is(lost.length, 0, `acknowledged and not in the topic: ids ${lost.slice(0, 12).join(', ')}${lost.length > 12 ? '…' : ''}`)
        assert.is(duplicated, 0, 'an idempotent producer writes an acknowledged record once')
        return { faults: 1, recordsIn: acknowledged.length, recordsOut: acknowledged.length - lost.length, lost: lost.length, duplicated, notes: [] }
      } finally {
        child.kill('SIGKILL')
      }
    },
  }
}
