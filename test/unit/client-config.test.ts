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

test("OAUTHBEARER reads the token endpoint and the client credentials as Kafka's OAuthBearerLoginCallbackHandler does", () => {
  const props = readClientProperties(
    file(
      'oauth.properties',
      [
        'security.protocol=SASL_SSL',
        'sasl.mechanism=OAUTHBEARER',
        'sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler',
        'sasl.oauthbearer.token.endpoint.url=https://idp.example.com/oauth2/token',
        'sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="recover-ci" clientSecret="Oauth-Secret-Walrus-77" scope="kafka.read" extension_logicalCluster="lkc-1";',
      ].join('\n'),
    ),
  )
  assert.equal(props.sasl, {
    mechanism: 'oauthbearer',
    username: 'recover-ci',
    password: 'Oauth-Secret-Walrus-77',
    oauth: {
      tokenEndpoint: 'https://idp.example.com/oauth2/token',
      scope: 'kafka.read',
      extensions: { logicalCluster: 'lkc-1' },
      urlencodeHeader: false,
      subClaim: 'sub',
    },
  })
  assert.is(redactText('secret Oauth-Secret-Walrus-77'), 'secret ***')
  // Kafka 4.1 (KIP-1139) properties win over the JAAS options.
  const kip1139 = readClientProperties(
    file(
      'oauth-kip1139.properties',
      [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=OAUTHBEARER',
        'sasl.oauthbearer.token.endpoint.url=http://127.0.0.1:8080/token',
        'sasl.oauthbearer.client.credentials.client.id=svc',
        'sasl.oauthbearer.client.credentials.client.secret=svc-secret',
        'sasl.oauthbearer.scope=kafka',
        'sasl.oauthbearer.header.urlencode=true',
        'sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
      ].join('\n'),
    ),
  )
  assert.equal(
    [kip1139.sasl?.username, kip1139.sasl?.password, kip1139.sasl?.oauth?.scope, kip1139.sasl?.oauth?.urlencodeHeader],
    ['svc', 'svc-secret', 'kafka', true],
  )
})

test('OAUTHBEARER without a token endpoint, with an unusable one, or without credentials is refused with what to set', () => {
  const base = 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=OAUTHBEARER\n'
  assert.match(configError(base).message, /needs sasl\.oauthbearer\.token\.endpoint\.url/)
  assert.match(configError(`${base}sasl.oauthbearer.token.endpoint.url=ldap://idp/token\n`).message, /only https, http and file URLs/)
  assert.match(configError(`${base}sasl.oauthbearer.token.endpoint.url=https://idp/token\n`).message, /needs a client id and secret/)
  const fromFile = readClientProperties(file('oauth-file.properties', `${base}sasl.oauthbearer.token.endpoint.url=file:///var/run/kafka/token.jwt\n`))
  assert.is(fromFile.sasl?.oauth?.tokenEndpoint, 'file:///var/run/kafka/token.jwt')
})

test('an unknown SASL mechanism and a missing password are usage errors', () => {
  assert.match(
    configError('security.protocol=SASL_SSL\nsasl.mechanism=GSSAPI\n').message,
    /GSSAPI \(Kerberos\) is not supported by recover; use SCRAM-SHA-512, OAUTHBEARER or a TLS client certificate/,
  )
  assert.match(configError('security.protocol=SASL_SSL\nsasl.mechanism=AWS_MSK_IAM\n').message, /PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER/)
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
