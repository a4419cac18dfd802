import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createSecureContext } from 'node:tls'

const require = createRequire(import.meta.url)

/**
 * Java key and trust stores (JKS, PKCS12), as Kafka's own tools read them from
 * `ssl.truststore.*` and `ssl.keystore.*`, turned into what Node's TLS takes. PKCS12 key
 * stores go to Node as they are (`pfx`); JKS, which only Java writes, and trust stores (Node
 * reads PKCS12 only as a key with its certificate) are converted in memory to PEM with jks-js.
 * Nothing is written to disk and no JVM runs.
 */

export type StoreKind = 'JKS' | 'PKCS12' | 'JCEKS' | 'unknown'

/** Why a store cannot be used, as a clause for the properties file's error: what to check. */
export class StoreProblem extends Error {}

interface StoreFile {
  path: string
  /** The property that named it, for messages: ssl.truststore.location or ssl.keystore.location. */
  property: string
  password: string | undefined
  /** What ssl.*.type says; the bytes decide, this only sharpens the message when they disagree. */
  declaredType: string | undefined
}

const JKS_MAGIC = 0xfeedfeed
const JCEKS_MAGIC = 0xcececece

/** What the bytes are: JKS and JCEKS by their magic number, PKCS12 by its DER sequence. */
export function storeKind(bytes: Buffer): StoreKind {
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === JKS_MAGIC) return 'JKS'
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === JCEKS_MAGIC) return 'JCEKS'
  if (bytes.length >= 2 && bytes[0] === 0x30) return 'PKCS12'
  return 'unknown'
}

/** The CA certificates of a trust store, as PEM for Node's `ca`. */
export function readTrustStore(store: StoreFile): string {
  const { bytes, kind } = readStore(store)
  const entries = toPem(store, bytes, kind, undefined)
  const certificates = Object.values(entries).flatMap((e) => [e.ca, e.cert].filter((c): c is string => typeof c === 'string'))
  if (certificates.length === 0) throw new StoreProblem(`${store.path} (${store.property}) holds no certificate; import the CA with keytool -importcert.`)
  return certificates.join('\n')
}

export type KeyMaterial = { pfx: Buffer; passphrase: string | undefined } | { cert: string; key: string }

/**
 * The client certificate and key of a key store: a PKCS12 one as Node's `pfx` (checked here,
 * so a wrong password fails before any connection), a JKS one converted to PEM. `keyPassword`
 * is ssl.key.password, which Java lets differ from the store's password in a JKS store.
 */
export function readKeyStore(store: StoreFile, keyPassword: string | undefined): KeyMaterial {
  const { bytes, kind } = readStore(store)
  if (kind === 'PKCS12') {
    try {
      createSecureContext({ pfx: bytes, passphrase: store.password })
      return { pfx: bytes, passphrase: store.password }
    } catch (error) {
      const message = (error as Error).message
      if (/mac verify failure|invalid password/i.test(message)) throw wrongPassword(store)
      // OpenSSL 3 refuses the legacy ciphers older JDKs wrote (RC2, 3DES): convert those instead.
      if (!/unsupported/i.test(message)) throw new StoreProblem(`Node cannot use the key in ${store.path} (${store.property}): ${message}.`)
    }
  }
  const entries = toPem(store, bytes, kind, keyPassword)
  const keys = Object.entries(entries).filter(([, e]) => typeof e.key === 'string' && typeof e.cert === 'string')
  if (keys.length === 0) throw new StoreProblem(`${store.path} (${store.property}) holds no private key; it looks like a trust store.`)
  if (keys.length > 1)
    throw new StoreProblem(
      `${store.path} (${store.property}) holds ${keys.length} private keys (${keys.map(([alias]) => alias).join(', ')}); keep the client's one (keytool -delete -alias …).`,
    )
  const [, entry] = keys[0]!
  return { cert: entry.cert!, key: entry.key! }
}

function readStore(store: StoreFile): { bytes: Buffer; kind: StoreKind } {
  let bytes: Buffer
  try {
    bytes = readFileSync(store.path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new StoreProblem(
      code === 'ENOENT'
        ? `${store.property} ${store.path} does not exist; check the path.`
        : `${store.property} ${store.path} cannot be read (${code ?? (error as Error).message}); check its permissions.`,
    )
  }
  const kind = storeKind(bytes)
  if (kind === 'JCEKS')
    throw new StoreProblem(
      `${store.path} is a JCEKS store, which only Java reads; convert it once with keytool -importkeystore -srckeystore ${store.path} -srcstoretype JCEKS -destkeystore store.p12 -deststoretype PKCS12.`,
    )
  if (kind === 'unknown') {
    const declared = store.declaredType ? ` (${store.property.replace('.location', '.type')} says ${store.declaredType})` : ''
    throw new StoreProblem(`${store.path} is not a JKS or PKCS12 store${declared}; for PEM files set the type to PEM.`)
  }
  return { bytes, kind }
}

interface PemEntry {
  ca?: string
  cert?: string
  key?: string
}

function toPem(store: StoreFile, bytes: Buffer, kind: StoreKind, keyPassword: string | undefined): Record<string, PemEntry> {
  const jks = require('jks-js') as { toPem(store: Buffer, password: string, keyPassword?: string): Record<string, PemEntry> }
  if (kind === 'PKCS12' && !store.password)
    throw new StoreProblem(`${store.path} is a PKCS12 store, whose certificates are encrypted with its password; set ${passwordProperty(store)}.`)
  try {
    return jks.toPem(bytes, store.password ?? '', keyPassword ?? store.password ?? '')
  } catch (error) {
    const message = (error as Error).message
    if (/password verification failed|mac could not be verified|invalid password/i.test(message)) throw wrongPassword(store)
    if (/cannot recover key/i.test(message))
      throw new StoreProblem(
        `ssl.key.password does not open the private key in ${store.path}; set it to the key's password (keytool -keypass), or leave it out when it is the store's.`,
      )
    throw new StoreProblem(`${store.path} (${store.property}) cannot be read as ${kind}: ${message}.`)
  }
}

function passwordProperty(store: StoreFile): string {
  return store.property.replace('.location', '.password')
}

function wrongPassword(store: StoreFile): StoreProblem {
  return new StoreProblem(`${passwordProperty(store)} does not open ${store.path} (the store's integrity check failed); check the password.`)
}
