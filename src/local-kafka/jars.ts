import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

import { RecoveryError } from '../errors.js'
import type { OnLocalKafkaEvent } from './events.js'
import { ensureJava } from './java.js'
import { findRepoRoot, recoverCacheDir } from './repo-root.js'
import { isCommandMissing, lastLines, runProcess } from './run-process.js'
import { isKafka3, resolveKafkaVersion } from './versions.js'

export interface KafkaJars {
  version: string
  /** A folder of jars: the broker, kafka-tools and a logging backend; `<libDir>/*` is the classpath. */
  libDir: string
}

export interface EnsureKafkaJarsOptions {
  /** Defaults to env RECOVER_KAFKA_VERSION, else DEFAULT_KAFKA_VERSION. */
  version?: string
  onProgress?: OnLocalKafkaEvent
}

/** Written last, so a folder without it is a half-finished download and is fetched again. */
const MARKER = 'complete.json'
const MAVEN_TIMEOUT_MS = 15 * 60_000

/**
 * Returns the jar folder for a Kafka version, downloading it with Maven into
 * `<cache>/kafka/<version>/lib` on first use (test/broker/pom.xml says what; the cache is the
 * clone's `.cache/`, or ~/.cache/recover for an installed copy: see recoverCacheDir).
 */
export async function ensureKafkaJars(options: EnsureKafkaJarsOptions = {}): Promise<KafkaJars> {
  const version = resolveKafkaVersion(options.version)
  // One download per version per process, however many callers ask at once.
  let pending = inFlight.get(version)
  if (pending === undefined) {
    pending = fetchKafkaJars(version, options.onProgress).finally(() => inFlight.delete(version))
    inFlight.set(version, pending)
  }
  return pending
}

const inFlight = new Map<string, Promise<KafkaJars>>()

async function fetchKafkaJars(version: string, onProgress: OnLocalKafkaEvent | undefined): Promise<KafkaJars> {
  const started = Date.now()
  await ensureJava()
  const root = findRepoRoot()
  const versionDir = join(recoverCacheDir(root), 'kafka', version)
  const libDir = join(versionDir, 'lib')
  if (await isComplete(versionDir, libDir)) {
    onProgress?.({ type: 'jars-ready', version, libDir, downloaded: false, ms: Date.now() - started })
    return { version, libDir }
  }

  onProgress?.({ type: 'jars-downloading', version, libDir })
  await mkdir(versionDir, { recursive: true })
  // Download next to the final folder and rename it into place, so two processes racing
  // on a cold cache never see each other's half-copied folder.
  const stagingDir = join(versionDir, `lib.partial-${process.pid}-${Date.now()}`)
  try {
    await downloadJars(root, version, versionDir, stagingDir)
    if (await isComplete(versionDir, libDir)) {
      // Another process finished first and may be running from it: keep theirs.
      onProgress?.({ type: 'jars-ready', version, libDir, downloaded: true, ms: Date.now() - started })
      return { version, libDir }
    }
    await rm(join(versionDir, MARKER), { force: true })
    await rm(libDir, { recursive: true, force: true })
    await rename(stagingDir, libDir)
    const jars = (await readdir(libDir)).filter((name) => name.endsWith('.jar')).sort()
    await writeFile(join(versionDir, MARKER), `${JSON.stringify({ version, jars, at: new Date().toISOString() }, null, 2)}\n`)
  } catch (error) {
    // Leave no empty .cache/kafka/<version> behind for a version that never downloaded.
    if (!existsSync(libDir)) await rmdir(versionDir).catch(() => undefined)
    throw error
  } finally {
    await rm(stagingDir, { recursive: true, force: true })
  }
  onProgress?.({ type: 'jars-ready', version, libDir, downloaded: true, ms: Date.now() - started })
  return { version, libDir }
}

async function isComplete(versionDir: string, libDir: string): Promise<boolean> {
  try {
    const marker: unknown = JSON.parse(await readFile(join(versionDir, MARKER), 'utf8'))
    if (typeof marker !== 'object' || marker === null || !('jars' in marker) || !Array.isArray(marker.jars)) return false
    return marker.jars.length > 0 && marker.jars.every((jar: unknown) => typeof jar === 'string' && existsSync(join(libDir, jar)))
  } catch {
    return false
  }
}

async function downloadJars(root: string, version: string, versionDir: string, outputDir: string): Promise<void> {
  // Maven may write next to the pom (target/): run a copy of it in the cache, never in the
  // package folder, which is read-only when installed globally.
  const pom = join(versionDir, `pom-${process.pid}.xml`)
  await copyFile(join(root, 'test', 'broker', 'pom.xml'), pom)
  try {
    await runMaven(pom, version, outputDir)
  } finally {
    await rm(pom, { force: true })
  }
}

async function runMaven(pom: string, version: string, outputDir: string): Promise<void> {
  const args = [
    '-B',
    '-q',
    '-Dstyle.color=never',
    '-f',
    pom,
    'generate-resources',
    ...(isKafka3(version) ? ['-Pkafka-3.9'] : []),
    `-Dkafka.version=${version}`,
    `-Dkafka.lib.dir=${outputDir}`,
  ]
  let output
  try {
    output = await runProcess('mvn', args, { cwd: dirname(pom), timeoutMs: MAVEN_TIMEOUT_MS })
  } catch (error) {
    if (isCommandMissing(error)) {
      throw new RecoveryError('MAVEN_MISSING', `Maven ("mvn") is not on PATH; it downloads the Kafka ${version} jars for the local broker.`, {
        nextSteps: ['Install Maven, e.g. apt-get install maven.'],
        cause: error,
      })
    }
    throw error
  }
  const brokerJar = join(outputDir, `kafka_2.13-${version}.jar`)
  if (output.exitCode !== 0 || !existsSync(brokerJar)) {
    const text = stripAnsi(`${output.stdout}\n${output.stderr}`)
    const tail = lastLines(text, 25).filter((line) => line.trim() !== '[ERROR]')
    const notFound = /Could not find artifact org\.apache\.kafka:|org\.apache\.kafka:[\w.:-]+ was not found in/.test(text)
    throw new RecoveryError(
      'KAFKA_JARS_UNAVAILABLE',
      notFound
        ? `Maven Central has no Kafka ${version} jars (Maven reached it but found no such version).`
        : `Maven could not download the Kafka ${version} jars (exit code ${output.exitCode}); Maven Central must be reachable from this machine.`,
      {
        nextSteps: [
          `Check that Maven reaches Maven Central: mvn -f ${join(findRepoRoot(), 'test', 'broker', 'pom.xml')} generate-resources -Dkafka.version=${version} -Dkafka.lib.dir=/tmp/kafka-lib`,
          'Pick a Kafka version that exists on Maven Central with RECOVER_KAFKA_VERSION or --version.',
        ],
        details: { version, command: ['mvn', ...args].join(' '), exitCode: output.exitCode, mavenOutputTail: tail },
      },
    )
  }
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '')
}
