import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import kafkajs from 'kafkajs'
import { LOCAL_SECURE_USERS, makeUnrelatedCa, startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { runCli, type CliRun } from '../support/cli.js'
import { withTimeout } from '../support/timeout.js'

/**
 * A broker of its own with a SASL_SSL listener (SCRAM-SHA-512, a test CA made with openssl)
 * and ACLs enforced (StandardAuthorizer). Only this file pays for TLS and ACLs: the shared
 * test broker stays plain and fast.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-security-'))
const { reader, stranger } = LOCAL_SECURE_USERS
const WRONG_PASSWORD = 'Wr0ng-Pa55-Narwhal-2291'
let broker: LocalKafka
let kafka: InstanceType<typeof kafkajs.Kafka>
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } = kafkajs

function properties(name: string, lines: string[]): string {
  const path = join(dir, name)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

function secured(name: string, user: { username: string }, password: string, ca: string): string {
  return properties(name, [
    `bootstrap.servers=${broker.secure!.brokers}`,
    'security.protocol=SASL_SSL',
    'sasl.mechanism=SCRAM-SHA-512',
    `sasl.username=${user.username}`,
    `sasl.password=${password}`,
    `ssl.ca.location=${ca}`,
  ])
}

/** Every output of every run, to grep for secrets at the end. */
const outputs: Array<{ what: string; text: string }> = []
async function cli(args: string[], what: string): Promise<CliRun> {
  const run = await runCli(args, { cwd: dir, timeoutMs: 90_000, env: { RECOVER_BROKERS: undefined, RECOVER_HOME: join(dir, 'home') } })
  outputs.push({ what: `${what} stdout`, text: run.stdout }, { what: `${what} stderr`, text: run.stderr })
  return run
}

function kcatDump(topic: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-C', '-b', broker.brokers, '-t', topic, '-e', '-q', '-f', '%k %s %h\\n'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString('latin1')))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`kcat -C ${topic} exit ${code}`))))
  })
}

function filesUnder(path: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(path)) {
    const full = join(path, name)
    if (statSync(full).isDirectory()) out.push(...filesUnder(full))
    else out.push(full)
  }
  return out
}

test.before(
  withTimeout(120_000, async () => {
    broker = await startLocalKafka({ secure: true })
    // The PLAINTEXT listener is User:ANONYMOUS, a super user: set up topics and ACLs through it.
    kafka = new Kafka({ brokers: [broker.brokers], logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    try {
      const allow = (resourceType: kafkajs.AclResourceTypes, resourceName: string) => ({
        resourceType,
        resourceName,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: `User:${reader.username}`,
        host: '*',
        operation: AclOperationTypes.ALL,
        permissionType: AclPermissionTypes.ALLOW,
      })
      await admin.createAcls({
        acl: [allow(AclResourceTypes.TOPIC, '*'), allow(AclResourceTypes.GROUP, '*'), allow(AclResourceTypes.CLUSTER, 'kafka-cluster')],
      })
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'payments', numPartitions: 2, replicationFactor: 1 }] })
    } finally {
      await admin.disconnect()
    }
    // Idempotent: on a loaded machine a retried produce must not write a partition's records twice.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    await producer.send({
      topic: 'payments',
      acks: -1,
      messages: Array.from({ length: 20 }, (_, i) => ({
        partition: i % 2,
        key: `pay-${i % 15}`,
        value: i === 13 ? '{"broken": ' : JSON.stringify({ id: i, cents: i * 100 }),
        timestamp: String(1_700_000_000_000 + i * 1000),
      })),
    })
    await producer.disconnect()
  }),
)

test.after(async () => {
  await broker?.stop()
})

test(
  'a SCRAM-SHA-512 user with ACLs works through SASL_SSL: groups, peek, seek with a journal, replay with a checkpoint and a quarantine, audit',
  withTimeout(240_000, async () => {
    const config = secured('reader.properties', reader, reader.password, broker.secure!.caCertificate)
    const jaas = properties('reader-jaas.properties', [
      `bootstrap.servers=${broker.secure!.brokers}`,
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      `ssl.ca.location=${broker.secure!.caCertificate}`,
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${reader.username}" password="${reader.password}";`,
    ])
    for (const file of [config, jaas]) {
      const groups = await cli(['groups', '--client-config', file, '--json'], 'groups')
      assert.is(groups.exitCode, 0, groups.stderr)
    }
    const peek = await cli(['peek', '--topic', 'payments', '--at', '2000-01-01', '--count', '5', '--client-config', config], 'peek')
    assert.is(peek.exitCode, 0, peek.stderr)
    const peekJson = await cli(['peek', '--topic', 'payments', '--at', '2000-01-01', '--client-config', config, '--json', '--verbose'], 'peek --json --verbose')
    assert.is(peekJson.exitCode, 0, peekJson.stderr)

    const seek = await cli(
      ['seek', '--group', 'billing', '--topic', 'payments', '--to-earliest', '--execute', '--yes', '--client-config', config, '--json'],
      'seek --execute',
    )
    assert.is(seek.exitCode, 0, seek.stderr)
    const undo = await cli(['seek', '--group', 'billing', '--undo', '--execute', '--yes', '--client-config', config], 'seek --undo')
    assert.is(undo.exitCode, 0, undo.stderr)

    const replay = await cli(
      [
        'replay',
        '--topic',
        'payments',
        '--value-format',
        'json',
        '--sink',
        'kafka:payments.fixed',
        '--checkpoint',
        'cp.json',
        '--client-config',
        config,
        '--json',
      ],
      'replay',
    )
    assert.is(replay.exitCode, 0, replay.stderr)
    assert.is(replay.json.totals.written, 19)
    assert.is(replay.json.totals.quarantined, 1)
    const replayPlain = await cli(
      [
        'replay',
        '--topic',
        'payments',
        '--value-format',
        'json',
        '--sink',
        'file:out.jsonl',
        '--quarantine',
        'file:q.jsonl',
        '--client-config',
        config,
        '--verbose',
      ],
      'replay to files',
    )
    assert.is(replayPlain.exitCode, 0, replayPlain.stderr)
    outputs.push({ what: 'quarantine topic', text: await kcatDump('payments.quarantine') }, { what: 'sink topic', text: await kcatDump('payments.fixed') })

    const audit = await cli(
      ['audit', 'duplicates', '--topic', 'payments', '--key', 'key', '--db', 'audit.duckdb', '--report', 'dups.csv', '--client-config', config, '--json'],
      'audit duplicates',
    )
    assert.is(audit.exitCode, 0, audit.stderr)
    const history = await cli(['audit', 'history', '--db', 'audit.duckdb', '--json'], 'audit history')
    assert.is(history.exitCode, 0, history.stderr)
  }),
)

test(
  'a wrong password is exit 5 with one sentence naming the mechanism and user',
  withTimeout(60_000, async () => {
    const config = secured('wrong-password.properties', reader, WRONG_PASSWORD, broker.secure!.caCertificate)
    for (const extra of [[], ['--verbose']]) {
      const run = await cli(['groups', '--client-config', config, ...extra], `wrong password ${extra.join(' ')}`)
      assert.is(run.exitCode, 5)
      assert.match(
        run.stderr,
        /^Error: Kafka at 127\.0\.0\.1:\d+ refused the SASL credentials \(scram-sha-512 as reader\) while connecting; check sasl\.mechanism and the username\/password in your client config\.$/m,
      )
    }
    const json = await cli(['peek', '--topic', 'payments', '--at', '-1h', '--client-config', config, '--json'], 'wrong password --json')
    assert.is(json.exitCode, 5)
    assert.is(json.json.error.code, 'AUTHENTICATION_FAILED')
  }),
)

test(
  'a CA that did not sign the broker certificate is exit 5 with one sentence about ssl.ca.location',
  withTimeout(60_000, async () => {
    const config = secured('wrong-ca.properties', reader, reader.password, await makeUnrelatedCa(join(dir, 'other-ca')))
    const run = await cli(['groups', '--client-config', config], 'wrong CA')
    assert.is(run.exitCode, 5)
    assert.match(
      run.stderr,
      /^Error: The TLS certificate of Kafka at 127\.0\.0\.1:\d+ is not signed by a CA this client trusts \(.*\) while connecting; set ssl\.ca\.location \(or ssl\.truststore\.location\) in your client config to the CA that signed the brokers' certificates\.$/m,
    )
    const json = await cli(['groups', '--client-config', config, '--json'], 'wrong CA --json')
    assert.is(json.json.error.code, 'BROKER_UNREACHABLE')
  }),
)

test(
  'a user without ACLs is exit 5 AUTHORIZATION_FAILED naming the principal and what was denied',
  withTimeout(60_000, async () => {
    const config = secured('stranger.properties', stranger, stranger.password, broker.secure!.caCertificate)
    const peek = await cli(['peek', '--topic', 'payments', '--at', '2000-01-01', '--client-config', config], 'no ACL peek')
    assert.is(peek.exitCode, 5)
    assert.match(
      peek.stderr,
      /^Error: Kafka at 127\.0\.0\.1:\d+ denied reading the metadata of topic payments to User:stranger \(TOPIC_AUTHORIZATION_FAILED\); ask for the ACLs this needs, or use a principal that has them\.$/m,
    )
    const replay = await cli(
      ['replay', '--topic', 'payments', '--sink', 'file:stranger.jsonl', '--client-config', config, '--json', '--verbose'],
      'no ACL replay',
    )
    assert.is(replay.exitCode, 5)
    assert.is(replay.json.error.code, 'AUTHORIZATION_FAILED')
  }),
)

test('no password appears in any output: stdout, stderr, --json, --verbose, journal, checkpoints, sink and quarantine files and topics, audit db and reports', () => {
  const secrets = [reader.password, stranger.password, WRONG_PASSWORD]
  const all = filesUnder(dir)
  // The check can see a password where there is one: the client configs hold them.
  assert.ok(readFileSync(join(dir, 'reader.properties'), 'latin1').includes(reader.password))
  const files = all.filter((f) => !f.endsWith('.properties') && !f.startsWith(join(dir, 'other-ca')))
  // The runs above must have left every kind of file this test promises to check.
  for (const kind of [/journal/, /cp\.json$/, /out\.jsonl$/, /q\.jsonl$/, /audit\.duckdb$/, /dups\.csv$/])
    assert.ok(
      files.some((f) => kind.test(f)),
      `no file matching ${kind} in ${files.join(', ')}`,
    )
  for (const file of files) outputs.push({ what: file, text: readFileSync(file).toString('latin1') })
  assert.ok(outputs.length > 40, String(outputs.length))
  for (const { what, text } of outputs) {
    for (const secret of secrets) assert.not.ok(text.includes(secret), `${what} contains a password`)
  }
})

test.run()
