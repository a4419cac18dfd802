import { runKafkaTool } from '../../src/local-kafka/index.js'
import { testBrokers } from './kafka.js'

const CONSUMER_GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand'

/** kafka-consumer-groups.sh --reset-offsets ... --dry-run: "topic-partition" -> new offset as a string. */
export async function kafkaResetPlan(group: string, args: string[]): Promise<Map<string, string>> {
  const out = await runKafkaTool(CONSUMER_GROUP_COMMAND, ['--bootstrap-server', testBrokers(), '--reset-offsets', '--group', group, ...args, '--dry-run'])
  if (out.exitCode !== 0) throw new Error(`Kafka's tool failed (${out.exitCode}): ${out.stdout}\n${out.stderr}`)
  // Kafka 3.9's tool prints all rows on one line (no newline after each): read tokens in fours
  // after the header, which works for both 3.9 and 4.x.
  const tokens = out.stdout.trim().split(/\s+/)
  const plan = new Map<string, string>()
  for (let i = tokens.indexOf('NEW-OFFSET') + 1; i > 0 && i + 3 < tokens.length; i += 4) {
    const [g, topic, partition, offset] = tokens.slice(i, i + 4)
    if (g === group && /^\d+$/.test(partition ?? '') && /^\d+$/.test(offset ?? '')) plan.set(`${topic}-${partition}`, offset!)
  }
  return plan
}

/** kafka-consumer-groups.sh --describe --offsets: the group's committed offsets, "topic-partition" -> offset string. */
export async function kafkaCommittedOffsets(group: string): Promise<Map<string, string>> {
  const out = await runKafkaTool(CONSUMER_GROUP_COMMAND, ['--bootstrap-server', testBrokers(), '--describe', '--offsets', '--group', group])
  if (out.exitCode !== 0) throw new Error(`Kafka's tool failed (${out.exitCode}): ${out.stdout}\n${out.stderr}`)
  const offsets = new Map<string, string>()
  // Columns: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
  for (const line of out.stdout.split('\n')) {
    const [g, topic, partition, current] = line.trim().split(/\s+/)
    if (g === group && /^\d+$/.test(partition ?? '') && /^\d+$/.test(current ?? '')) offsets.set(`${topic}-${partition}`, current!)
  }
  return offsets
}
