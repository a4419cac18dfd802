import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readClientProperties } from '../../src/config/client-properties.js'
import { redact, redactText } from '../../src/config/redact.js'
import { RecoveryError } from '../../src/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'recover-props-'))
function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

test('a plain properties file gives the bootstrap servers and no security', () => {
  const props = readClientProperties(file('plain.properties', 'bootstrap.servers=kafka-1:9092, kafka-2:9092\n'))
  assert.equal(props.brokers, ['kafka-1:9092', 'kafka-2:9092'])
  assert.is(props.ssl, undefined)
  assert.is(props.sasl, undefined)
})

test('SASL PLAIN credentials are read from sasl.jaas.config, including a continued line', () => {
  const props = readClientProperties(
    file(
      'plain-sasl.properties',
      'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n  username="alice" password="s3cr3t-pw";\n',
    ),
  )
  assert.equal(props.sasl, { mechanism: 'plain', username: 'alice', password: 's3cr3t-pw' })
  assert.is(props.ssl, undefined)
})

test('SCRAM-SHA-512 over SSL reads the CA, certificate and key PEM files', () => {
  const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n')
  const cert = file('client.pem', '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n')
  const key = file('client.key', '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n')
  const props = readClientProperties(
    file(
      'scram.properties',
      [
        'bootstrap.servers=secure:9093',
        'security.protocol=SASL_SSL',
        'sasl.mechanism=SCRAM-SHA-512',
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="bob" password="pa\\"ss";',
        `ssl.ca.location=${ca}`,
        `ssl.certificate.location=${cert}`,
        `ssl.key.location=${key}`,
        'ssl.endpoint.identification.algorithm=',
      ].join('\n'),
    ),
  )
  assert.is(props.sasl?.mechanism, 'scram-sha-512')
  assert.is(props.sasl?.username, 'bob')
  assert.ok(props.ssl?.ca?.includes('CA'))
  assert.ok(props.ssl?.cert?.includes('CLIENT'))
  assert.ok(props.ssl?.key?.includes('KEY'))
  assert.is(props.ssl?.checkHostname, false)
  assert.is(props.ssl?.rejectUnauthorized, true)
})

test('sasl.username and sasl.password work without JAAS', () => {
  const props = readClientProperties(
    file('userpass.properties', 'security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-256\nsasl.username=carol\nsasl.password=hunter22\n'),
  )
  assert.equal(props.sasl, { mechanism: 'scram-sha-256', username: 'carol', password: 'hunter22' })
  assert.ok(props.ssl)
})

function configError(text: string): RecoveryError {
  try {
    readClientProperties(file(`bad-${Math.random()}.properties`, text))
  } catch (error) {
    assert.instance(error, RecoveryError)
    return error as RecoveryError
  }
  throw new Error('expected a RecoveryError')
}

test('a JKS truststore is refused with the keytool command to convert it', () => {
  const error = configError('security.protocol=SSL\nssl.truststore.location=/etc/kafka/truststore.jks\nssl.truststore.password=changeit\n')
  assert.is(error.code, 'BAD_CLIENT_CONFIG')
  assert.is(error.exitCode, 2)
  assert.match(error.message, /ssl\.ca\.location/)
})

test('an unknown SASL mechanism and a missing password are usage errors', () => {
  assert.match(configError('security.protocol=SASL_SSL\nsasl.mechanism=GSSAPI\n').message, /GSSAPI.*PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512/)
  assert.match(configError('security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n').message, /username and password/)
  assert.match(configError('security.protocol=TLS\n').message, /security\.protocol "TLS"/)
})

test('a missing file names the path and the flag', () => {
  try {
    readClientProperties(join(dir, 'nope.properties'))
    assert.unreachable()
  } catch (error) {
    assert.is((error as RecoveryError).code, 'CONFIG_NOT_FOUND')
    assert.match((error as RecoveryError).message, /--client-config/)
  }
})

test('passwords read from a client config are redacted from any later text', () => {
  readClientProperties(file('secret.properties', 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.username=dave\nsasl.password=Tr0ub4dor&3\n'))
  assert.is(redactText('failed with password Tr0ub4dor&3 for dave'), 'failed with password *** for dave')
  assert.equal(redact({ note: 'pw=Tr0ub4dor&3', password: 'anything', nested: [{ jaasConfig: 'x' }] }), {
    note: 'pw=***',
    password: '***',
    nested: [{ jaasConfig: '***' }],
  })
})

test('credentials inside URLs are redacted', () => {
  assert.is(redactText('registry https://user:hunter2@registry:8081 down'), 'registry https://user:***@registry:8081 down')
})

test.run()
