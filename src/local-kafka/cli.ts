/**
 * `npm run kafka`: a local Kafka broker in the foreground for trying `recover` by hand.
 * Prints the --brokers value, runs until Ctrl-C or SIGTERM, then stops and removes its data
 * (unless --data-dir was given). Progress goes to stderr, the connection lines to stdout.
 */
import { LOCAL_SASL_USERS, LOCAL_SECURE_USERS } from './server-properties.js'
import { parseArgs } from 'node:util'

import { isRecoveryError, RecoveryError } from '../errors.js'
import { startLocalKafka, type LocalKafka } from './broker.js'
import { describeLocalKafkaEvent } from './describe-event.js'
import { DEFAULT_KAFKA_VERSION, KAFKA_3_VERSION } from './versions.js'

const USAGE = `Usage: npm run kafka -- [--version X] [--port N] [--data-dir DIR] [--secure]

Starts a single-node Apache Kafka (KRaft) broker on 127.0.0.1 and keeps it running until
Ctrl-C. Jars come from Maven Central on first use (cached in .cache/kafka/ of a clone, ~/.cache/recover/kafka/ when installed).

  --version X      Kafka version (default: $RECOVER_KAFKA_VERSION, else ${DEFAULT_KAFKA_VERSION}; ${KAFKA_3_VERSION} for the 3.9 line)
  --port N         client port (default: a free port)
  --data-dir DIR   keep the broker's data in DIR across runs (default: a temp dir, removed on exit)
  --secure         also a SASL_SSL listener (SCRAM-SHA-512, a test CA) and ACLs enforced (docs/security.md)
`

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv)
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const port = values.port === undefined ? undefined : parsePort(values.port)
  const broker = await startLocalKafka({
    version: values.version,
    port,
    dataDir: values['data-dir'],
    secure: values.secure,
    onProgress: (event) => process.stderr.write(`${describeLocalKafkaEvent(event)}\n`),
  })
  process.stdout.write(
    [
      `Kafka ${broker.version} is running (pid ${broker.pid}, data in ${broker.dataDir}).`,
      `  --brokers ${broker.brokers}`,
      `  export RECOVER_BROKERS=${broker.brokers}`,
      `SASL_PLAINTEXT listener for trying --client-config: ${broker.saslBrokers} (users ${Object.values(LOCAL_SASL_USERS)
        .map((u) => `${u.username}/${u.password} ${u.mechanism}`)
        .join(', ')}).`,
      ...(broker.secure
        ? [
            `SASL_SSL listener with ACLs enforced: ${broker.secure.brokers}, CA ${broker.secure.caCertificate} (SCRAM-SHA-512 users ${Object.values(
              LOCAL_SECURE_USERS,
            )
              .map((u) => `${u.username}/${u.password}`)
              .join(', ')}; admin is a super user, PLAINTEXT is User:ANONYMOUS, also a super user).`,
            `SSL listener that requires a client certificate: ${broker.secure.mtlsBrokers} (certificate ${broker.secure.clientCertificate}, key ${broker.secure.clientKey}; User:CN=recover-client, a super user).`,
          ]
        : []),
      `Press Ctrl-C to stop it${values['data-dir'] === undefined ? ' and remove its data' : ''}.`,
      '',
    ].join('\n'),
  )
  return runUntilStopped(broker)
}

function runUntilStopped(broker: LocalKafka): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second Ctrl-C: do not wait for the clean shutdown.
        broker.kill('SIGKILL')
        return
      }
      stopping = true
      process.stderr.write(`\n${signal}: stopping Kafka…\n`)
      broker.stop().then(
        () => resolve(0),
        (error: unknown) => {
          process.stderr.write(`${String(error)}\n`)
          resolve(1)
        },
      )
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    process.on('SIGHUP', onSignal)
    void broker.whenExited().then(async (exit) => {
      if (stopping) return
      stopping = true
      process.stderr.write(`The broker exited by itself (code ${exit.code}, signal ${exit.signal}). Its last output:\n`)
      process.stderr.write(
        broker
          .outputTail(30)
          .map((line) => `  ${line}\n`)
          .join(''),
      )
      await broker.stop()
      resolve(1)
    })
  })
}

function parseCli(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        version: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        secure: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    })
  } catch (error) {
    throw new RecoveryError('USAGE', error instanceof Error ? error.message : String(error), { nextSteps: ['npm run kafka -- --help'] })
  }
}

function parsePort(text: string): number {
  const port = Number(text)
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RecoveryError('USAGE', `--port must be a TCP port number (1-65535), not "${text}".`)
  }
  return port
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (!isRecoveryError(error)) throw error
    process.stderr.write(`Error [${error.code}]: ${error.message}\n`)
    for (const step of error.nextSteps) process.stderr.write(`  → ${step}\n`)
    const tail = error.details.outputTail ?? error.details.mavenOutputTail
    if (Array.isArray(tail) && tail.length > 0) process.stderr.write(`Last output:\n${tail.map((line) => `  ${String(line)}\n`).join('')}`)
    process.exit(error.exitCode)
  },
)
