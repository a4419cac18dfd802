/** What every Kafka adapter needs to connect; built once from flags, env, config files. */
export interface ConnectionSettings {
  brokers: string[]
  clientId: string
  ssl?: TlsSettings
  sasl?: SaslSettings
  /** Where each setting came from, for error messages ("brokers from --client-config prod.properties"). */
  source: string
}

export interface TlsSettings {
  ca?: string
  cert?: string
  key?: string
  passphrase?: string
  rejectUnauthorized: boolean
  /** false when ssl.endpoint.identification.algorithm is empty, as in the Java client. */
  checkHostname: boolean
}

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512'

export interface SaslSettings {
  mechanism: SaslMechanism
  username: string
  password: string
}

/** Settings as they may be shown: secrets replaced. */
export function describeConnection(settings: ConnectionSettings): Record<string, unknown> {
  return {
    brokers: settings.brokers,
    clientId: settings.clientId,
    security: settings.ssl ? (settings.sasl ? 'SASL_SSL' : 'SSL') : settings.sasl ? 'SASL_PLAINTEXT' : 'PLAINTEXT',
    sasl: settings.sasl ? { mechanism: settings.sasl.mechanism, username: settings.sasl.username, password: '***' } : undefined,
    source: settings.source,
  }
}
