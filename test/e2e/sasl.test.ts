import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LOCAL_SASL_USERS } from '../../src/local-kafka/index.js'
import { runCli } from '../support/cli.js'
import { withTimeout } from '../support/timeout.js'

/** The shared test broker's SASL_PLAINTEXT listener (see src/local-kafka/server-properties.ts). */
const saslBrokers = process.env.RECOVER_TEST_SASL_BROKERS
const dir = mkdtempSync(join(tmpdir(), 'recover-sasl-'))

function properties(name: string, lines: string[]): string {
  const path = join(dir, name)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

const { plain, scram256, scram512 } = LOCAL_SASL_USERS

test(
  'SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 client configs connect to a real SASL listener',
  withTimeout(90_000, async () => {
    if (!saslBrokers) throw new Error('RECOVER_TEST_SASL_BROKERS is not set: run through npm test')
    const files = [
      properties('plain.properties', [
        `bootstrap.servers=${saslBrokers}`,
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=PLAIN',
        `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${plain.username}" password="${plain.password}";`,
      ]),
      properties('scram256.properties', [
        `bootstrap.servers=${saslBrokers}`,
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=SCRAM-SHA-256',
        `sasl.username=${scram256.username}`,
        `sasl.password=${scram256.password}`,
      ]),
      properties('scram512.properties', [
        `bootstrap.servers=${saslBrokers}`,
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=SCRAM-SHA-512',
        `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${scram512.username}" password="${scram512.password}";`,
      ]),
    ]
    for (const file of files) {
      // RECOVER_BROKERS points at the plaintext listener; the client config's bootstrap.servers must win.
      const run = await runCli(['groups', '--client-config', file, '--json'])
      assert.is(run.exitCode, 0, `${file}: ${run.stderr}`)
      assert.ok(Array.isArray(run.json.groups))
    }
  }),
)

test(
  'a wrong SCRAM password is exit 5 AUTHENTICATION_FAILED, and the password is never shown',
  withTimeout(60_000, async () => {
    if (!saslBrokers) throw new Error('RECOVER_TEST_SASL_BROKERS is not set: run through npm test')
    const wrong = 'Not-Bobs-Password-42'
    const file = properties('wrong.properties', [
      `bootstrap.servers=${saslBrokers}`,
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.username=${scram512.username}`,
      `sasl.password=${wrong}`,
    ])
    const run = await runCli(['groups', '--client-config', file, '--verbose'], { timeoutMs: 30_000 })
    assert.is(run.exitCode, 5)
    assert.match(run.stderr, /^Error: Kafka at .* refused the SASL credentials \(scram-sha-512 as bob\)/m)
    assert.not.match(run.stdout + run.stderr, wrong)
    const json = await runCli(['groups', '--client-config', file, '--json'], { timeoutMs: 30_000 })
    assert.is(json.json.error.code, 'AUTHENTICATION_FAILED')
    assert.not.match(json.stdout, wrong)
  }),
)

test(
  'a named cluster in recover.config.json reads its SASL secret from the environment',
  withTimeout(60_000, async () => {
    if (!saslBrokers) throw new Error('RECOVER_TEST_SASL_BROKERS is not set: run through npm test')
    writeFileSync(
      join(dir, 'recover.config.json'),
      JSON.stringify({
        clusters: {
          secured: {
            brokers: saslBrokers,
            properties: {
              'security.protocol': 'SASL_PLAINTEXT',
              'sasl.mechanism': 'SCRAM-SHA-256',
              'sasl.username': scram256.username,
              'sasl.password': '${TEST_KAFKA_PASSWORD}',
            },
          },
        },
      }),
    )
    const ok = await runCli(['groups', '--cluster', 'secured', '--json'], { cwd: dir, env: { TEST_KAFKA_PASSWORD: scram256.password } })
    assert.is(ok.exitCode, 0, ok.stderr)
    const missing = await runCli(['groups', '--cluster', 'secured'], { cwd: dir, env: { TEST_KAFKA_PASSWORD: undefined } })
    assert.is(missing.exitCode, 2)
    assert.match(missing.stderr, /TEST_KAFKA_PASSWORD/)
  }),
)

test.run()
