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
  /** A PKCS12 key store (ssl.keystore.type=PKCS12), as Node reads it; its password is `passphrase`. */
  pfx?: Buffer
  passphrase?: string
  rejectUnauthorized: boolean
  /** false when ssl.endpoint.identification.algorithm is empty, as in the Java client. */
  checkHostname: boolean
}

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'oauthbearer'

export interface SaslSettings {
  mechanism: SaslMechanism
  /** The user; for OAUTHBEARER the OAuth client id ('' when tokens come from a file). */
  username: string
  /** The password; for OAUTHBEARER the client secret. */
  password: string
  /** OAUTHBEARER: where the tokens come from. */
  oauth?: OAuthSettings
}

/** OAUTHBEARER with the client-credentials flow, as Kafka's OAuthBearerLoginCallbackHandler reads it. */
export interface OAuthSettings {
  /** sasl.oauthbearer.token.endpoint.url: http(s) for the client-credentials flow, or file: for a token kept in a file. */
  tokenEndpoint: string
  scope?: string
  /** SASL extensions (extension_NAME="value" in sasl.jaas.config). */
  extensions: Record<string, string>
  /** sasl.oauthbearer.header.urlencode: URL-encode the client id and secret in the Basic header (RFC 6749), off by default as in Kafka. */
  urlencodeHeader: boolean
  /** sasl.oauthbearer.sub.claim.name: the claim that names the principal (default sub). */
  subClaim: string
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
