import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RecoveryError } from '../errors.js'
import { isCommandMissing, lastLines, runProcess } from './run-process.js'

/** Where the secured broker's certificates live, all PEM. */
export interface LocalTlsFiles {
  dir: string
  /** The test CA's certificate: what clients put in ssl.ca.location. */
  caCertificate: string
  /** Private key (PKCS#8) then certificate, for Kafka's PEM keystore (ssl.keystore.type=PEM). */
  brokerKeystore: string
  /** A client certificate (CN=recover-client, LOCAL_TLS_CLIENT) signed by the CA, and its key: for the SSL listener that requires one. */
  clientCertificate: string
  clientKey: string
}

/** The secured broker's TLS listeners and the files a client needs for them. */
export interface LocalSecureListeners {
  brokers: string
  caCertificate: string
  mtlsBrokers: string
  clientCertificate: string
  clientKey: string
}

/** Where the secured listeners and their certificates are, for a broker whose data dir is `dataDir`. */
export function secureListeners(dataDir: string, securePort: number, mtlsPort: number): LocalSecureListeners {
  const dir = join(dataDir, 'tls')
  return {
    brokers: `127.0.0.1:${securePort}`,
    caCertificate: join(dir, 'ca.pem'),
    mtlsBrokers: `127.0.0.1:${mtlsPort}`,
    clientCertificate: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
  }
}

/** The principal Kafka sees for the local client certificate (ssl.principal.mapping.rules default: the whole DN). */
export const LOCAL_TLS_CLIENT = 'CN=recover-client'

/**
 * A throwaway CA and a broker certificate for 127.0.0.1/localhost, made with openssl at the
 * first start and kept in the data dir (a restart reuses them). openssl rather than keytool:
 * it makes PEM directly, which both Kafka (PEM keystores, KIP-651) and Node read, and it
 * starts in milliseconds where every keytool call is a JVM start.
 */
export async function ensureLocalTls(dataDir: string): Promise<LocalTlsFiles> {
  const dir = join(dataDir, 'tls')
  const files: LocalTlsFiles = {
    dir,
    caCertificate: join(dir, 'ca.pem'),
    brokerKeystore: join(dir, 'broker-keystore.pem'),
    clientCertificate: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
  }
  if ([files.caCertificate, files.brokerKeystore, files.clientCertificate, files.clientKey].every((f) => existsSync(f))) return files
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  const steps: string[][] = [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=recover local test CA'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=127.0.0.1'],
    ['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '30', '-extfile', 'san.ext'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', `/${LOCAL_TLS_CLIENT}`],
    ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '30'],
  ]
  for (const args of steps) await openssl(args, dir)
  await writeFile(files.brokerKeystore, (await readFile(join(dir, 'broker.key'), 'utf8')) + (await readFile(join(dir, 'broker.pem'), 'utf8')))
  return files
}

/** Another CA, unrelated to the broker's: for testing that a wrong ssl.ca.location is refused. */
export async function makeUnrelatedCa(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  await openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '30', '-subj', '/CN=some other CA'],
    dir,
  )
  return join(dir, 'other-ca.pem')
}

async function openssl(args: string[], cwd: string): Promise<void> {
  let out
  try {
    out = await runProcess('openssl', args, { cwd, timeoutMs: 60_000 })
  } catch (error) {
    if (isCommandMissing(error))
      throw new RecoveryError(
        'LOCAL_BROKER_FAILED',
        'openssl is not on PATH; the secured local broker needs it to make its certificates (apt-get install openssl).',
        { cause: error },
      )
    throw error
  }
  if (out.exitCode !== 0) {
    throw new RecoveryError(
      'LOCAL_BROKER_FAILED',
      `openssl ${args[0]} failed (exit code ${out.exitCode}) while making the local broker's certificates in ${cwd}.`,
      { details: { outputTail: lastLines(`${out.stdout}\n${out.stderr}`, 20) } },
    )
  }
}
