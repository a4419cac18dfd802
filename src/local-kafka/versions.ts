import { RecoveryError } from '../errors.js'

/**
 * The Kafka version the project tests against by default. Keep in step with the
 * kafka.version property in test/broker/pom.xml.
 */
export const DEFAULT_KAFKA_VERSION = '4.4.0'

/** The 3.9 line, for the compatibility run (RECOVER_KAFKA_VERSION=3.9.2). */
export const KAFKA_3_VERSION = '3.9.2'

/** `version`, else env RECOVER_KAFKA_VERSION, else the default; checked to be x.y.z. */
export function resolveKafkaVersion(version?: string): string {
  const chosen = version ?? nonEmpty(process.env.RECOVER_KAFKA_VERSION) ?? DEFAULT_KAFKA_VERSION
  if (!/^\d+\.\d+\.\d+$/.test(chosen)) {
    throw new RecoveryError('USAGE', `Kafka version "${chosen}" is not of the form 4.4.0.`, {
      nextSteps: [`Use a released Kafka version such as ${DEFAULT_KAFKA_VERSION} or ${KAFKA_3_VERSION}.`],
      details: { version: chosen },
    })
  }
  const major = Number(chosen.split('.')[0])
  if (major < 3 || (major === 3 && Number(chosen.split('.')[1]) < 9)) {
    throw new RecoveryError('USAGE', `Kafka ${chosen} is not supported by the local broker; it needs 3.9 or newer (KRaft without ZooKeeper).`, {
      nextSteps: [`Use ${DEFAULT_KAFKA_VERSION} or ${KAFKA_3_VERSION}.`],
      details: { version: chosen },
    })
  }
  return chosen
}

/** Kafka 3.x logs through log4j 1 (reload4j) and has no share coordinator. */
export function isKafka3(version: string): boolean {
  return version.startsWith('3.')
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}
