import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { resolveConnect } from '../../src/config/resolve-connect.js'
import { loadProjectConfig } from '../../src/config/project-config.js'
import { ConnectClient } from '../../src/connect/connect-client.js'
import { redactText } from '../../src/config/redact.js'
import { offsetsDiffer, parseConnectOffsetsFile, undoEntries, connectorGroup } from '../../src/core/connect-offsets.js'
import type { RecoveryError } from '../../src/errors.js'
import { describeFailures, resumeOutcome, resumeSettled } from '../../src/core/connect-resume.js'
import { connectTargetArgs, credentialsNote, rerunCommand } from '../../src/core/connect-commands.js'
import type { ConnectorStatus } from '../../src/connect/connect-types.js'

const dir = mkdtempSync(join(tmpdir(), 'recover-connect-config-'))
writeFileSync(
  join(dir, 'recover.config.json'),
  JSON.stringify({
    clusters: {
      prod: {
        brokers: 'prod-1:9092',
        connectUrl: 'https://connect.prod:8083',
        connectUser: 'ops',
        connectPassword: '${RECOVER_TEST_CONNECT_PW}',
        connectCaFile: 'ca.pem',
      },
      staging: { brokers: 'staging-1:9092', connectUrl: 'http://connect.staging:8083', connectToken: 'staging-token-123' },
    },
    defaults: { cluster: 'staging' },
  }),
)
const project = loadProjectConfig(undefined, dir)

test('the Connect URL: --connect-url, then RECOVER_CONNECT_URL, then the chosen cluster (the default one unless --brokers names another)', () => {
  assert.is(resolveConnect({ connectUrl: 'http://a:8083' }, project).url, 'http://a:8083')
  assert.is(resolveConnect({ env: { RECOVER_CONNECT_URL: 'http://b:8083' } }, project).source, 'RECOVER_CONNECT_URL')
  const staging = resolveConnect({ env: {} }, project)
  assert.is(staging.url, 'http://connect.staging:8083')
  assert.equal(staging.auth, { kind: 'bearer', token: 'staging-token-123' })
  const prod = resolveConnect({ cluster: 'prod', env: { RECOVER_TEST_CONNECT_PW: 'pw-from-env' } }, project)
  assert.equal(prod.auth, { kind: 'basic', user: 'ops', password: 'pw-from-env' })
  assert.is(prod.caFile, join(dir, 'ca.pem'))
  let error: RecoveryError | undefined
  try {
    resolveConnect({ brokers: 'other:9092', env: {} }, project)
  } catch (e) {
    error = e as RecoveryError
  }
  assert.is(error?.code, 'USAGE')
  assert.match(error!.message, /--connect-url/)
})

test('credentials in the URL become basic auth, leave the URL, and are never printed', () => {
  const settings = resolveConnect({ connectUrl: 'http://svc:s3cret-pass@connect:8083/', env: {} }, project)
  assert.is(settings.url, 'http://connect:8083')
  assert.equal(settings.auth, { kind: 'basic', user: 'svc', password: 's3cret-pass' })
  new ConnectClient(settings)
  assert.is(redactText('Kafka Connect refused s3cret-pass'), 'Kafka Connect refused ***')
  assert.is(settings.credentialsInUrl, true)
  assert.is(
    resolveConnect({ connectUrl: 'http://connect:8083', env: { RECOVER_CONNECT_USER: 'a', RECOVER_CONNECT_PASSWORD: 'b' } }, project).credentialsInUrl,
    undefined,
  )
})

test('the commands printed after a failure run over https with credentials: --connect-ca kept, the URL without user:password@ and a note where they go', () => {
  const target = { url: 'https://connect:8083', ca: '/etc/ca.pem', credentialsInUrl: true }
  assert.equal(connectTargetArgs(target), ['--connect-url', 'https://connect:8083', '--connect-ca', '/etc/ca.pem'])
  const argv = ['--connector', 'es', '--to-earliest', '--connect-url', 'https://ops:s3cret@connect:8083', '--connect-ca', '/etc/ca.pem', '--execute']
  const retry = rerunCommand(['recover', 'seek'], argv, target)
  assert.is(retry, 'recover seek --connector es --to-earliest --connect-url https://connect:8083 --connect-ca /etc/ca.pem --execute --yes')
  assert.not.match(retry, /s3cret|\*\*\*|ops@/)
  assert.is(
    rerunCommand(['recover', 'seek'], ['--connect-url=https://ops:s3cret@connect:8083', '-y'], target),
    'recover seek --connect-url=https://connect:8083 -y',
  )
  assert.match(credentialsNote(target)!, /RECOVER_CONNECT_USER and RECOVER_CONNECT_PASSWORD/)
  assert.is(credentialsNote({ url: 'http://connect:8083' }), undefined)
  assert.equal(connectTargetArgs({ url: 'http://connect:8083' }), ['--connect-url', 'http://connect:8083'])
})

const status = (state: string, tasks: Array<[string, string?]>): ConnectorStatus => ({
  name: 'es',
  type: 'sink',
  connector: { state, worker_id: 'w:8083' },
  tasks: tasks.map(([s, trace], id) => ({ id, state: s, worker_id: 'w:8083', ...(trace ? { trace } : {}) })),
})

test('a resume is done when the connector left STOPPED and its tasks settled; still STOPPED at the deadline or a FAILED task is not a success', () => {
  const halted = ['STOPPED']
  assert.is(resumeSettled(status('STOPPED', []), halted), false)
  assert.is(resumeSettled(status('RUNNING', []), halted), false, 'its tasks are not there yet')
  assert.is(resumeSettled(status('RUNNING', [['UNASSIGNED']]), halted), false)
  assert.is(resumeSettled(status('RUNNING', [['RUNNING']]), halted), true)
  assert.is(resumeSettled(status('RUNNING', [['FAILED', 'java.io.IOException: disk\n\tat x']]), halted), true)
  assert.equal(resumeOutcome(status('RUNNING', [['RUNNING']]), halted), { kind: 'running', state: 'RUNNING' })
  assert.equal(resumeOutcome(status('RUNNING', []), halted), { kind: 'running', state: 'RUNNING' })
  assert.equal(resumeOutcome(status('STOPPED', []), halted), { kind: 'halted', state: 'STOPPED' })
  assert.equal(resumeOutcome(status('PAUSED', [['PAUSED']]), ['STOPPED', 'PAUSED']), { kind: 'halted', state: 'PAUSED' })
  const failed = resumeOutcome(status('RUNNING', [['RUNNING'], ['FAILED', 'java.io.IOException: disk\n\tat x']]), halted)
  assert.is(failed.kind, 'failed')
  assert.is(failed.kind === 'failed' && describeFailures(failed.failed), 'task 1 FAILED (java.io.IOException: disk)')
})

test('a sink connector group is connect-NAME unless overridden; undo restores the previous offsets and removes those that did not exist', () => {
  assert.is(connectorGroup('es', {}), 'connect-es')
  assert.is(connectorGroup('es', { 'consumer.override.group.id': 'custom' }), 'custom')
  const p0 = { kafka_topic: 'orders', kafka_partition: 0 }
  const p1 = { kafka_partition: 1, kafka_topic: 'orders' }
  const undo = undoEntries(
    [{ partition: { kafka_partition: 0, kafka_topic: 'orders' }, offset: { kafka_offset: 7 } }],
    [
      { partition: p0, offset: { kafka_offset: 3 } },
      { partition: p1, offset: { kafka_offset: 2 } },
    ],
  )
  assert.equal(undo, [
    { partition: p0, offset: { kafka_offset: 7 } },
    { partition: p1, offset: null },
  ])
  assert.equal(offsetsDiffer(undo, [{ partition: p0, offset: { kafka_offset: 7 } }]), [])
  assert.equal(offsetsDiffer(undo, [{ partition: p0, offset: { kafka_offset: 8 } }]), ['orders-0 reads {"kafka_offset":8}, set {"kafka_offset":7}'])
})

test('an offsets file must be {"offsets": [{partition, offset}]}; the error says so', () => {
  assert.equal(parseConnectOffsetsFile('{"offsets":[{"partition":{"filename":"f"},"offset":{"position":2}}]}', 'f.json'), [
    { partition: { filename: 'f' }, offset: { position: 2 } },
  ])
  for (const bad of ['[]', '{"offsets":[]}', '{"offsets":[{"offset":{}}]}', 'not json']) {
    try {
      parseConnectOffsetsFile(bad, 'f.json')
      assert.unreachable(bad)
    } catch (e) {
      assert.is((e as RecoveryError).code, 'USAGE')
      assert.match((e as RecoveryError).message, /f\.json/)
    }
  }
})

test.run()
