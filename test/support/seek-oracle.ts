import { runKafkaTool } from '../../src/local-kafka/index.js'
import { testBrokers } from './kafka.js'

const CONSUMER_GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand'

/** kafka-consumer-groups.sh --reset-offsets ... --dry-run: "topic-partition" -> new offset as a string. */
export async function kafkaResetPlan(group: string, args: string[]): Promise<Map<string, string>> {
  const out = await runKafkaTool(CONSUMER_GROUP_COMMAND, ['--bootstrap-server', testBrokers(), '--reset-offsets', '--group', group, ...args, '--dry-run'])
  if (out.exitCode !== 0) throw new Error(`Kafka's tool failed (${out.exitCode}): ${out.stdout}\n${out.stderr}`)
  const plan = new Map<string, string>()
  for (const line of out.stdout.split('\n')) {
    const cols = line.trim().split(/\s+/)
    if (cols.length === 4 && cols[0] === group && /^\d+$/.test(cols[2]!) && /^\d+$/.test(cols[3]!)) plan.set(`${cols[1]}-${cols[2]}`, cols[3]!)
  }
  return plan
}
