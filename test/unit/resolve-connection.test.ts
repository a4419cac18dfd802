import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { resolveConnection } from '../../src/config/resolve-connection.js'
import { loadProjectConfig } from '../../src/config/project-config.js'
import type { RecoveryError } from '../../src/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'recover-config-'))
writeFileSync(
  join(dir, 'prod.properties'),
  'bootstrap.servers=prod-1:9092\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=svc\nsasl.password=prod-secret\n',
)
writeFileSync(
  join(dir, 'recover.config.json'),
  JSON.stringify({
    clusters: {
      prod: { clientConfig: 'prod.properties' },
      staging: { brokers: 'staging-1:9092,staging-2:9092' },
      envsecret: {
        brokers: 'e:9092',
        properties: { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.username': 'u', 'sasl.password': '${RECOVER_TEST_PW}' },
      },
    },
    defaults: { schemaDir: 'schemas' },
  }),
)
const project = loadProjectConfig(undefined, dir)
const noConfig = { clusters: {}, defaults: {} }

test('with nothing given, recover connects to localhost:9092', () => {
  const s = resolveConnection({ env: {} }, noConfig)
  assert.equal(s.brokers, ['localhost:9092'])
  assert.is(s.source, 'the default')
})

test('RECOVER_BROKERS is used when no flag names brokers', () => {
  assert.equal(resolveConnection({ env: { RECOVER_BROKERS: 'a:1,b:2' } }, noConfig).brokers, ['a:1', 'b:2'])
})

test('--brokers wins over RECOVER_BROKERS and over a named cluster', () => {
  const s = resolveConnection({ brokers: 'flag:9092', cluster: 'staging', env: { RECOVER_BROKERS: 'env:9092' } }, project)
  assert.equal(s.brokers, ['flag:9092'])
  assert.is(s.source, '--brokers')
})

test('a named cluster brings its brokers and the security of its client config', () => {
  const s = resolveConnection({ cluster: 'prod', env: { RECOVER_BROKERS: 'env:9092' } }, project)
  assert.equal(s.brokers, ['prod-1:9092'])
  assert.is(s.sasl?.username, 'svc')
  assert.ok(s.ssl)
})

test("RECOVER_BROKERS wins over the config file's default cluster, which then brings none of its settings", () => {
  const withDefault = { ...project, defaults: { ...project.defaults, cluster: 'prod' } }
  const s = resolveConnection({ env: { RECOVER_BROKERS: 'env:9092' } }, withDefault)
  assert.equal(s.brokers, ['env:9092'])
  assert.is(s.source, 'RECOVER_BROKERS')
  assert.is(s.sasl, undefined)
  assert.is(s.ssl, undefined)
})

test('the default cluster of the config file is used when neither a flag nor RECOVER_BROKERS names brokers', () => {
  const withDefault = { ...project, defaults: { ...project.defaults, cluster: 'prod' } }
  const s = resolveConnection({ env: {} }, withDefault)
  assert.equal(s.brokers, ['prod-1:9092'])
  assert.match(s.source, /cluster "prod" \(the default in .*recover\.config\.json\)/)
  assert.is(s.sasl?.username, 'svc')
})

test('--cluster NAME wins over RECOVER_BROKERS', () => {
  const s = resolveConnection({ cluster: 'staging', env: { RECOVER_BROKERS: 'env:9092' } }, project)
  assert.equal(s.brokers, ['staging-1:9092', 'staging-2:9092'])
  assert.is(s.source, '--cluster staging')
})

test("--brokers does not borrow the default cluster's credentials for another cluster", () => {
  const withDefault = { ...project, defaults: { ...project.defaults, cluster: 'prod' } }
  const s = resolveConnection({ brokers: 'other:9092', env: {} }, withDefault)
  assert.is(s.sasl, undefined)
})

test('inline cluster properties read secrets from the environment', () => {
  const s = resolveConnection({ cluster: 'envsecret', env: { RECOVER_TEST_PW: 'from-env' } }, project)
  assert.equal(s.sasl, { mechanism: 'scram-sha-256', username: 'u', password: 'from-env' })
  try {
    resolveConnection({ cluster: 'envsecret', env: {} }, project)
    assert.unreachable()
  } catch (error) {
    assert.is((error as RecoveryError).code, 'BAD_CONFIG')
    assert.match((error as RecoveryError).message, /RECOVER_TEST_PW/)
  }
})

test('an unknown cluster names the clusters that exist', () => {
  try {
    resolveConnection({ cluster: 'qa', env: {} }, project)
    assert.unreachable()
  } catch (error) {
    assert.is((error as RecoveryError).code, 'UNKNOWN_CLUSTER')
    assert.is((error as RecoveryError).exitCode, 2)
    assert.match((error as RecoveryError).message, /prod, staging, envsecret/)
  }
})

test('a broker address without a port is a usage error with an example', () => {
  try {
    resolveConnection({ brokers: 'kafka-1', env: {} }, noConfig)
    assert.unreachable()
  } catch (error) {
    assert.is((error as RecoveryError).code, 'USAGE')
    assert.match((error as RecoveryError).message, /host:port/)
  }
})

test('config paths are resolved next to the config file', () => {
  assert.is(project.defaults.schemaDir, join(dir, 'schemas'))
})

test('a broken config file is a BAD_CONFIG error naming the file', () => {
  const bad = join(dir, 'broken.json')
  writeFileSync(bad, '{"clusters": {"x": 3}}')
  try {
    loadProjectConfig(bad)
    assert.unreachable()
  } catch (error) {
    assert.is((error as RecoveryError).code, 'BAD_CONFIG')
    assert.match((error as RecoveryError).message, /broken\.json: cluster "x"/)
  }
})

test('an explicit --config that does not exist is an error, a missing default is not', () => {
  assert.throws(
    () => loadProjectConfig(join(dir, 'missing.json')),
    (e: RecoveryError) => e.code === 'CONFIG_NOT_FOUND',
  )
  assert.equal(loadProjectConfig(undefined, join(dir, 'nowhere')).clusters, {})
})

test.run()
