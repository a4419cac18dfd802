import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSecureContext } from 'node:tls'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readClientProperties } from '../../src/config/client-properties.js'
import { storeKind } from '../../src/config/key-stores.js'
import { RecoveryError } from '../../src/errors.js'
import { repoRoot } from '../support/paths.js'

const stores = join(repoRoot(), 'fixtures', 'tls')
const dir = mkdtempSync(join(tmpdir(), 'recover-stores-'))

function props(lines: string[]) {
  const path = join(dir, `client-${Math.random().toString(36).slice(2)}.properties`)
  writeFileSync(path, `security.protocol=SSL\n${lines.join('\n')}\n`)
  return readClientProperties(path)
}

function refusal(lines: string[]): RecoveryError {
  try {
    props(lines)
  } catch (error) {
    assert.instance(error, RecoveryError)
    assert.is((error as RecoveryError).code, 'BAD_CLIENT_CONFIG')
    assert.is((error as RecoveryError).exitCode, 2)
    return error as RecoveryError
  }
  throw new Error('expected the properties to be refused')
}

/** Whatever the store gave, Node's TLS must accept it as a client's key and certificate. */
function assertNodeAccepts(ssl: ReturnType<typeof props>['ssl']) {
  createSecureContext({ ca: ssl?.ca, cert: ssl?.cert, key: ssl?.key, pfx: ssl?.pfx, passphrase: ssl?.passphrase })
}

test('store kinds are told by their bytes', () => {
  assert.is(storeKind(Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2])), 'JKS')
  assert.is(storeKind(Buffer.from([0xce, 0xce, 0xce, 0xce])), 'JCEKS')
  assert.is(storeKind(Buffer.from([0x30, 0x82])), 'PKCS12')
  assert.is(storeKind(Buffer.from('-----BEGIN CERTIFICATE-----')), 'unknown')
})

test('a PKCS12 key store goes to Node as pfx, a PKCS12 trust store as PEM certificates', () => {
  const { ssl } = props([
    `ssl.truststore.location=${join(stores, 'trust.p12')}`,
    'ssl.truststore.password=trust-secret',
    'ssl.truststore.type=PKCS12',
    `ssl.keystore.location=${join(stores, 'client.p12')}`,
    'ssl.keystore.password=store-secret',
    'ssl.keystore.type=PKCS12',
  ])
  assert.match(ssl!.ca!, /^-----BEGIN CERTIFICATE-----/)
  assert.ok(Buffer.isBuffer(ssl!.pfx))
  assert.is(ssl!.passphrase, 'store-secret')
  assertNodeAccepts(ssl)
})

test('JKS stores are converted to PEM, with a key password of their own', () => {
  const { ssl } = props([
    `ssl.truststore.location=${join(stores, 'trust.jks')}`,
    'ssl.truststore.password=trust-secret',
    `ssl.keystore.location=${join(stores, 'client.jks')}`,
    'ssl.keystore.password=store-secret',
    'ssl.key.password=key-secret',
  ])
  assert.match(ssl!.ca!, /BEGIN CERTIFICATE/)
  assert.match(ssl!.cert!, /BEGIN CERTIFICATE/)
  assert.match(ssl!.key!, /BEGIN (RSA )?PRIVATE KEY/)
  assert.is(ssl!.pfx, undefined)
  assertNodeAccepts(ssl)
})

test('a JKS trust store opens without its password, as in Java (no integrity check)', () => {
  const { ssl } = props([`ssl.truststore.location=${join(stores, 'trust.jks')}`])
  assert.match(ssl!.ca!, /BEGIN CERTIFICATE/)
})

test('a PKCS12 store with the legacy ciphers of older JDKs, which Node refuses, is converted instead', () => {
  const { ssl } = props([`ssl.keystore.location=${join(stores, 'client-legacy.p12')}`, 'ssl.keystore.password=store-secret', 'ssl.keystore.type=PKCS12'])
  assert.is(ssl!.pfx, undefined)
  assert.match(ssl!.cert!, /BEGIN CERTIFICATE/)
  assertNodeAccepts(ssl)
})

test('a wrong store password, a wrong key password and a missing file are one sentence each with what to fix', () => {
  const wrongStore = refusal([`ssl.keystore.location=${join(stores, 'client.p12')}`, 'ssl.keystore.password=nope-nope'])
  assert.match(wrongStore.message, /ssl\.keystore\.password does not open .*client\.p12 \(the store's integrity check failed\); check the password\.$/)
  const wrongTrust = refusal([`ssl.truststore.location=${join(stores, 'trust.jks')}`, 'ssl.truststore.password=nope-nope'])
  assert.match(wrongTrust.message, /ssl\.truststore\.password does not open .*trust\.jks/)
  const wrongTrust12 = refusal([`ssl.truststore.location=${join(stores, 'trust.p12')}`, 'ssl.truststore.password=nope-nope', 'ssl.truststore.type=PKCS12'])
  assert.match(wrongTrust12.message, /ssl\.truststore\.password does not open .*trust\.p12/)
  const wrongKey = refusal([`ssl.keystore.location=${join(stores, 'client.jks')}`, 'ssl.keystore.password=store-secret', 'ssl.key.password=nope-nope'])
  assert.match(wrongKey.message, /ssl\.key\.password does not open the private key in .*client\.jks; set it to the key's password/)
  const missing = refusal([`ssl.truststore.location=${join(stores, 'nope.jks')}`, 'ssl.truststore.password=x'])
  assert.match(missing.message, /ssl\.truststore\.location .*nope\.jks does not exist; check the path\.$/)
  for (const error of [wrongStore, wrongTrust, wrongKey, missing]) assert.match(error.message, /^[^\n]+\.$/)
})

test('a JCEKS store, a PEM file typed as JKS and a PKCS12 trust store without a password are refused with the fix', () => {
  assert.match(
    refusal([`ssl.keystore.location=${join(stores, 'client.jceks')}`, 'ssl.keystore.password=store-secret']).message,
    /is a JCEKS store, which only Java reads; convert it once with keytool -importkeystore .* -deststoretype PKCS12\.$/,
  )
  assert.match(
    refusal([`ssl.truststore.location=${join(stores, 'ca.pem')}`, 'ssl.truststore.type=JKS']).message,
    /ca\.pem is not a JKS or PKCS12 store \(ssl\.truststore\.type says JKS\); for PEM files set the type to PEM\./,
  )
  assert.match(refusal([`ssl.truststore.location=${join(stores, 'trust.p12')}`]).message, /set ssl\.truststore\.password\.$/)
  assert.match(refusal([`ssl.keystore.location=${join(stores, 'trust.jks')}`, 'ssl.keystore.password=trust-secret']).message, /holds no private key/)
})

test('PEM stores still work through the type PEM', () => {
  const key = join(dir, 'keystore.pem')
  writeFileSync(key, `${readFileSync(join(stores, 'client.key'), 'utf8')}${readFileSync(join(stores, 'client.pem'), 'utf8')}`)
  const { ssl } = props([
    `ssl.truststore.location=${join(stores, 'ca.pem')}`,
    'ssl.truststore.type=PEM',
    `ssl.keystore.location=${key}`,
    'ssl.keystore.type=PEM',
  ])
  assertNodeAccepts(ssl)
})

test.run()
