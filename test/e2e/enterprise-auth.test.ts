import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import kafkajs from 'kafkajs'
import { makeUnrelatedCa, runKafkaTool, startLocalKafka, type LocalKafka } from '../../src/local-kafka/index.js'
import { freeLoopbackPorts } from '../../src/local-kafka/ports.js'
import { runProcess } from '../../src/local-kafka/run-process.js'
import { runCli, type CliRun } from '../support/cli.js'
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/oauth-server.js'
import { withTimeout } from '../support/timeout.js'

/**
 * The authentication shops use, against a broker of its own: an SSL listener that requires a
 * client certificate (reached with JKS and PKCS12 trust and key stores that the JDK's keytool
 * makes here from the broker's test CA), and an OAUTHBEARER listener that validates JWTs
 * against the JWKS of a tiny identity provider in this process (client-credentials grant,
 * RS256 tokens signed with node:crypto). Every properties file is also given to Kafka's own
 * kafka-consumer-groups tool: recover reads what Kafka's tools read.
 */
const dir = mkdtempSync(join(tmpdir(), 'recover-enterprise-auth-'))
const STORE_PASSWORD = 'Store-Pw-Heron-5521'
const KEY_PASSWORD = 'Key-Pw-Ibis-7730'
const TRUST_PASSWORD = 'Trust-Pw-Kite-9012'
const CLIENT_SECRET = 'Ci-Secret-Otter-4410'
const WRONG_PASSWORD = 'Wr0ng-Pa55-Marten-3307'
const CONSUMER_GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand'
const T0 = Date.UTC(2018, 2, 21)
let broker: LocalKafka
let idp: TestIdentityProvider

/** Every output of every run, to grep for secrets at the end. */
const outputs: Array<{ what: string; text: string }> = []
async function cli(args: string[], what: string): Promise<CliRun> {
  const run = await runCli(args, { cwd: dir, timeoutMs: 60_000, env: { RECOVER_BROKERS: undefined, RECOVER_HOME: join(dir, 'home') } })
  outputs.push({ what: `${what} stdout`, text: run.stdout }, { what: `${what} stderr`, text: run.stderr })
  return run
}

function properties(name: string, lines: string[]): string {
  const path = join(dir, name)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

async function tool(command: string, args: string[]): Promise<void> {
  const out = await runProcess(command, args, { cwd: dir, timeoutMs: 60_000 })
  if (out.exitCode !== 0) throw new Error(`${command} ${args.join(' ')} exited ${out.exitCode}: ${out.stderr}${out.stdout}`)
}

/** What Kafka's own tool makes of the same properties file: its exit code. */
async function kafkaToolAccepts(file: string, brokers: string, jvmOptions: string[] = []): Promise<void> {
  const out = await runKafkaTool(CONSUMER_GROUP_COMMAND, ['--bootstrap-server', brokers, '--list', '--command-config', file], { jvmOptions })
  assert.is(out.exitCode, 0, `kafka-consumer-groups with ${file}: ${out.stderr.slice(-800)}`)
}

const mtls = (name: string, lines: string[]) => properties(name, [`bootstrap.servers=${broker.secure!.mtlsBrokers}`, 'security.protocol=SSL', ...lines])
const p12Trust = [`ssl.truststore.location=${join(dir, 'trust.p12')}`, `ssl.truststore.password=${TRUST_PASSWORD}`, 'ssl.truststore.type=PKCS12']
const p12Key = [`ssl.keystore.location=${join(dir, 'client.p12')}`, `ssl.keystore.password=${STORE_PASSWORD}`, 'ssl.keystore.type=PKCS12']
const jksTrust = [`ssl.truststore.location=${join(dir, 'trust.jks')}`, `ssl.truststore.password=${TRUST_PASSWORD}`, 'ssl.truststore.type=JKS']
const jksKey = [`ssl.keystore.location=${join(dir, 'client.jks')}`, `ssl.keystore.password=${STORE_PASSWORD}`, `ssl.key.password=${KEY_PASSWORD}`]

function oauth(name: string, clientId: string, secret: string, endpoint = idp.tokenUrl): string {
  return properties(name, [
    `bootstrap.servers=${broker.oauthBrokers}`,
    'security.protocol=SASL_PLAINTEXT',
    'sasl.mechanism=OAUTHBEARER',
    'sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler',
    `sasl.oauthbearer.token.endpoint.url=${endpoint}`,
    `sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="${clientId}" clientSecret="${secret}" scope="kafka.read";`,
  ])
}

test.before(
  withTimeout(180_000, async () => {
    idp = await startTestIdentityProvider({
      'recover-ci': { secret: CLIENT_SECRET },
      'expired-ci': { secret: 'expired-secret', lifetimeSeconds: -60 },
      'elsewhere-ci': { secret: 'elsewhere-secret', audience: 'another-service' },
    })
    broker = await startLocalKafka({ secure: true, oauth: { jwksUrl: idp.jwksUrl, audience: idp.audience, issuer: idp.issuer, superUsers: ['recover-ci'] } })
    const { caCertificate, clientCertificate, clientKey } = broker.secure!
    // Stores as shops keep them: the client's key in PKCS12 and in JKS (with a key password of its own), the CA in both.
    await tool('openssl', [
      'pkcs12',
      '-export',
      '-in',
      clientCertificate,
      '-inkey',
      clientKey,
      '-name',
      'client',
      '-out',
      'openssl.p12',
      '-passout',
      `pass:${STORE_PASSWORD}`,
    ])
    const keytool = (args: string[]) => tool('keytool', ['-noprompt', ...args])
    const fromOpenssl = ['-importkeystore', '-srckeystore', 'openssl.p12', '-srcstoretype', 'PKCS12', '-srcstorepass', STORE_PASSWORD]
    await keytool([...fromOpenssl, '-destkeystore', 'client.p12', '-deststoretype', 'PKCS12', '-deststorepass', STORE_PASSWORD])
    await keytool([...fromOpenssl, '-destkeystore', 'client.jks', '-deststoretype', 'JKS', '-deststorepass', STORE_PASSWORD, '-destkeypass', KEY_PASSWORD])
    for (const type of ['JKS', 'PKCS12'])
      await keytool([
        '-importcert',
        '-alias',
        'ca',
        '-file',
        caCertificate,
        '-keystore',
        `trust.${type === 'JKS' ? 'jks' : 'p12'}`,
        '-storetype',
        type,
        '-storepass',
        TRUST_PASSWORD,
      ])
    const otherCa = await makeUnrelatedCa(join(dir, 'other'))
    await keytool(['-importcert', '-alias', 'other', '-file', otherCa, '-keystore', 'other-trust.p12', '-storetype', 'PKCS12', '-storepass', TRUST_PASSWORD])

    const kafka = new kafkajs.Kafka({ brokers: [broker.brokers], logLevel: kafkajs.logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'ledger', numPartitions: 2, replicationFactor: 1 }] })
    await admin.disconnect()
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    await producer.send({
      topic: 'ledger',
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: JSON.stringify({ i }), timestamp: String(T0 + i * 60_000) })),
    })
    await producer.disconnect()
  }),
)

test.after(async () => {
  await broker?.stop()
  await idp?.close()
})

test(
  'PKCS12 trust and key stores reach the listener that requires a client certificate: topics, topics describe, peek and groups',
  withTimeout(120_000, async () => {
    const config = mtls('p12.properties', [...p12Trust, ...p12Key])
    const topics = await cli(['topics', '--client-config', config, '--json'], 'topics p12')
    assert.is(topics.exitCode, 0, topics.stderr)
    assert.ok(topics.json.topics.some((t: { name: string }) => t.name === 'ledger'))
    const described = await cli(['topics', 'describe', '--topic', 'ledger', '--client-config', config, '--json'], 'topics describe p12')
    assert.is(described.exitCode, 0, described.stderr)
    assert.equal(described.json.holds.from, new Date(T0).toISOString())
    assert.equal(described.json.holds.to, new Date(T0 + 9 * 60_000).toISOString())
    const peek = await cli(['peek', '--topic', 'ledger', '--at', '2018-03-21T00:03', '--count', '2', '--client-config', config, '--json'], 'peek p12')
    assert.is(peek.exitCode, 0, peek.stderr)
    assert.is(peek.json.records.length, 2)
    const groups = await cli(['groups', '--client-config', config], 'groups p12')
    assert.is(groups.exitCode, 0, groups.stderr)
    await kafkaToolAccepts(config, broker.secure!.mtlsBrokers)
  }),
)

test(
  'JKS trust and key stores, with a key password of their own, work the same; so does a PKCS12 trust store for SCRAM over SASL_SSL',
  withTimeout(120_000, async () => {
    const config = mtls('jks.properties', [...jksTrust, ...jksKey])
    const described = await cli(['topics', 'describe', '--topic', 'ledger', '--client-config', config, '--json'], 'topics describe jks')
    assert.is(described.exitCode, 0, described.stderr)
    assert.is(described.json.totals.offsets, '10')
    await kafkaToolAccepts(config, broker.secure!.mtlsBrokers)

    const scram = properties('scram-p12-trust.properties', [
      `bootstrap.servers=${broker.secure!.brokers}`,
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-secret";',
      ...p12Trust,
    ])
    const groups = await cli(['topics', '--client-config', scram, '--json'], 'topics scram p12 trust')
    assert.is(groups.exitCode, 0, groups.stderr)
  }),
)

test(
  'a wrong store or key password and a missing store are exit 2 naming the property; no client certificate or an untrusted broker is exit 5',
  withTimeout(120_000, async () => {
    const refused = async (name: string, lines: string[], exitCode: number, code: string, message: RegExp) => {
      const run = await cli(['topics', '--client-config', mtls(name, lines), '--json'], name)
      assert.is(run.exitCode, exitCode, `${name}: ${run.stdout}${run.stderr}`)
      assert.is(run.json.error.code, code, name)
      assert.match(run.json.error.message, message)
      const plain = await cli(['topics', '--client-config', join(dir, name)], `${name} plain`)
      const lines2 = plain.stderr.split('\n').filter((l) => l && !l.startsWith('Kafka: cluster'))
      assert.match(lines2[0]!, /^Error: [^\n]+\.$/, name)
    }
    await refused(
      'wrong-store.properties',
      [...p12Trust, ...p12Key.map((l) => l.replace(STORE_PASSWORD, WRONG_PASSWORD))],
      2,
      'BAD_CLIENT_CONFIG',
      /ssl\.keystore\.password does not open .*client\.p12/,
    )
    await refused(
      'wrong-trust.properties',
      [...jksTrust.map((l) => l.replace(TRUST_PASSWORD, WRONG_PASSWORD)), ...jksKey],
      2,
      'BAD_CLIENT_CONFIG',
      /ssl\.truststore\.password does not open .*trust\.jks/,
    )
    await refused(
      'wrong-key.properties',
      [...jksTrust, ...jksKey.map((l) => l.replace(KEY_PASSWORD, WRONG_PASSWORD))],
      2,
      'BAD_CLIENT_CONFIG',
      /ssl\.key\.password does not open the private key/,
    )
    await refused(
      'missing-store.properties',
      [...p12Trust, ...p12Key.map((l) => l.replace('client.p12', 'gone.p12'))],
      2,
      'BAD_CLIENT_CONFIG',
      /ssl\.keystore\.location .*gone\.p12 does not exist; check the path\./,
    )
    await refused('no-client-cert.properties', p12Trust, 5, 'AUTHENTICATION_FAILED', /refused this client's TLS certificate .*set ssl\.keystore\.location/)
    await refused(
      'other-ca.properties',
      [`ssl.truststore.location=${join(dir, 'other-trust.p12')}`, `ssl.truststore.password=${TRUST_PASSWORD}`, ...p12Key],
      5,
      'BROKER_UNREACHABLE',
      /is not signed by a CA this client trusts/,
    )
  }),
)

test(
  "OAUTHBEARER with the client-credentials flow: topics, describe and peek, one token per command, the same file Kafka's tool reads",
  withTimeout(120_000, async () => {
    const config = oauth('oauth.properties', 'recover-ci', CLIENT_SECRET)
    for (const args of [['topics'], ['topics', 'describe', '--topic', 'ledger'], ['peek', '--topic', 'ledger', '--at', '2018-03-21', '--count', '3']]) {
      const before = idp.requests.length
      const run = await cli([...args, '--client-config', config, '--json'], `oauth ${args.join(' ')}`)
      assert.is(run.exitCode, 0, run.stderr)
      // Several connections (admin, leaders), one token: the token is shared until it is due for refresh.
      assert.equal(idp.requests.slice(before), [{ clientId: 'recover-ci', scope: 'kafka.read', granted: true }])
    }
    // A replay reads and writes through connections of its own: into a topic, with its quarantine and checkpoint.
    const replay = await cli(
      [
        'replay',
        '--topic',
        'ledger',
        '--value-format',
        'json',
        '--sink',
        'kafka:ledger.copy',
        '--checkpoint',
        join(dir, 'oauth-replay.json'),
        '--client-config',
        config,
        '--json',
      ],
      'oauth replay',
    )
    assert.is(replay.exitCode, 0, replay.stderr)
    assert.is(replay.json.totals.written, 10)
    await kafkaToolAccepts(config, broker.oauthBrokers!, [`-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=${idp.tokenUrl}`])
  }),
)

test(
  'OAUTHBEARER failures: a wrong secret, an expired token, a token for another audience and an unreachable endpoint are exit 5, one sentence each',
  withTimeout(120_000, async () => {
    const [closedPort] = await freeLoopbackPorts(1)
    const cases: Array<[string, string, string, string, RegExp, string?]> = [
      [
        'wrong-secret',
        'recover-ci',
        WRONG_PASSWORD,
        'AUTHENTICATION_FAILED',
        /token endpoint .* refused client id "recover-ci" \(HTTP 401 invalid_client.*\); check clientId and clientSecret in sasl\.jaas\.config\./,
      ],
      [
        'expired',
        'expired-ci',
        'expired-secret',
        'AUTHENTICATION_FAILED',
        /The OAuth token from .* expired at \S+ \(this machine's clock says \S+\); check the clock here/,
      ],
      [
        'audience',
        'elsewhere-ci',
        'elsewhere-secret',
        'AUTHENTICATION_FAILED',
        /refused the OAuth token from .* for client id "elsewhere-ci" .*invalid_token.*; check that its audience, issuer and scope/,
      ],
      [
        'unreachable',
        'recover-ci',
        CLIENT_SECRET,
        'TOKEN_ENDPOINT_FAILED',
        /Could not reach the OAuth token endpoint http:\/\/127\.0\.0\.1:\d+\/token \(ECONNREFUSED\)/,
        `http://127.0.0.1:${closedPort}/token`,
      ],
    ]
    for (const [name, clientId, secret, code, message, endpoint] of cases) {
      const config = oauth(`oauth-${name}.properties`, clientId, secret, endpoint)
      const run = await cli(['topics', '--client-config', config, '--json'], `oauth ${name}`)
      assert.is(run.exitCode, 5, `${name}: ${run.stdout}${run.stderr}`)
      assert.is(run.json.error.code, code, name)
      assert.match(run.json.error.message, message)
      const plain = await cli(['topics', '--client-config', config], `oauth ${name} plain`)
      assert.match(plain.stderr.split('\n').find((l) => l.startsWith('Error: '))!, /^Error: [^\n]+\.$/)
    }
  }),
)

test(
  'GSSAPI is refused before connecting, naming the alternatives',
  withTimeout(30_000, async () => {
    const config = properties('gssapi.properties', [
      `bootstrap.servers=${broker.brokers}`,
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=GSSAPI',
      'sasl.kerberos.service.name=kafka',
    ])
    const run = await cli(['topics', '--client-config', config, '--json'], 'gssapi')
    assert.is(run.exitCode, 2)
    assert.is(run.json.error.code, 'BAD_CLIENT_CONFIG')
    assert.match(run.json.error.message, /GSSAPI \(Kerberos\) is not supported by recover; use SCRAM-SHA-512, OAUTHBEARER or a TLS client certificate/)
  }),
)

test('no password, client secret or token appears in any output', () => {
  const secrets = [STORE_PASSWORD, KEY_PASSWORD, TRUST_PASSWORD, CLIENT_SECRET, WRONG_PASSWORD, ...idp.issued]
  assert.ok(outputs.length > 20)
  for (const { what, text } of outputs) for (const secret of secrets) assert.not.ok(text.includes(secret), `${what} shows a secret`)
})

test.run()
