import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { runProcess } from '../../src/local-kafka/run-process.js'
import { repoRoot } from './paths.js'

/** protobuf-java's version in test/protobuf-oracle/pom.xml. */
export const ORACLE_VERSION = '4.31.1'

/** protobuf-java and the Kafka client (test/protobuf-oracle/pom.xml), from Maven Central on first use into .cache/protobuf-oracle/. */
export function protobufOracleLibDir(): string {
  const lib = join(repoRoot(), '.cache', 'protobuf-oracle', ORACLE_VERSION, 'lib')
  if (existsSync(lib) && readdirSync(lib).some((f) => f.startsWith('protobuf-java-'))) return lib
  const staging = `${lib}.partial-${process.pid}`
  const result = spawnSync(
    'mvn',
    [
      '-q',
      '-f',
      join(repoRoot(), 'test', 'protobuf-oracle', 'pom.xml'),
      'generate-resources',
      `-Dprotobuf.version=${ORACLE_VERSION}`,
      `-Doracle.lib.dir=${staging}`,
    ],
    { encoding: 'utf8', timeout: 300_000 },
  )
  if (result.status !== 0) throw new Error(`mvn could not resolve protobuf-java ${ORACLE_VERSION} and kafka-clients: ${result.stdout}${result.stderr}`)
  rmSync(lib, { recursive: true, force: true })
  renameSync(staging, lib)
  return lib
}

/**
 * Runs test/protobuf-oracle/ProtobufOracle.java: `count` orders framed with `schemaId` and
 * message index [0], then a Refund ([1]) and an Order.Item ([0, 0]), written by protobuf-java
 * and the Kafka Java client to partition 0 of `topic`.
 */
export async function produceWithProtobufJava(brokers: string, topic: string, schemaId: number, count: number): Promise<void> {
  const lib = protobufOracleLibDir()
  const source = join(repoRoot(), 'test', 'protobuf-oracle', 'ProtobufOracle.java')
  const run = await runProcess('java', ['-cp', join(lib, '*'), source, brokers, topic, String(schemaId), String(count)], {
    cwd: repoRoot(),
    timeoutMs: 120_000,
  })
  if (run.exitCode !== 0 || !run.stdout.includes(`produced ${count + 2}`))
    throw new Error(`The protobuf-java oracle failed (exit ${run.exitCode}):\n${run.stdout}\n${run.stderr}`)
}
