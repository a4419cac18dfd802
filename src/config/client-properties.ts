import { readFileSync } from 'node:fs'
import { parse as parseProperties } from 'dot-properties'
import { RecoveryError } from '../errors.js'
import type { SaslMechanism, SaslSettings, TlsSettings } from './connection-settings.js'
import { registerSecret } from './redact.js'
import * as stores from './key-stores.js'

/** The part of a Kafka client .properties file that recover understands. */
export interface ClientProperties {
  brokers?: string[]
  ssl?: TlsSettings
  sasl?: SaslSettings
  clientId?: string
}

const PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const

/** Reads a file as ops teams keep it for kafka-consumer-groups.sh --command-config. */
export function readClientProperties(path: string): ClientProperties {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new RecoveryError('CONFIG_NOT_FOUND', `Cannot read the client config file ${path}; check the path given to --client-config.`, { cause })
  }
  return clientPropertiesFrom(parseProperties(text) as Record<string, string>, path)
}

export function clientPropertiesFrom(props: Record<string, string>, path: string): ClientProperties {
  const bad = (what: string): never => {
    throw new RecoveryError('BAD_CLIENT_CONFIG', `${path}: ${what}`, { details: { file: path } })
  }
  for (const [key, value] of Object.entries(props)) {
    if (/password|secret|jaas/i.test(key) && value) registerSecret(value)
  }
  const result: ClientProperties = {}
  const servers = props['bootstrap.servers']
  if (servers !== undefined) {
    result.brokers = servers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    if (result.brokers.length === 0) bad('bootstrap.servers is empty; give host:port[,host:port].')
  }
  if (props['client.id']) result.clientId = props['client.id']

  const protocol = (props['security.protocol'] ?? 'PLAINTEXT').toUpperCase()
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    bad(`security.protocol "${props['security.protocol']}" is not one of ${PROTOCOLS.join(', ')}.`)
  }
  if (protocol === 'SSL' || protocol === 'SASL_SSL') result.ssl = tlsFrom(props, bad)
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') result.sasl = saslFrom(props, bad)
  return result
}

function readPem(path: string, key: string, bad: (what: string) => never): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return bad(`cannot read ${key} file ${path}.`)
  }
}

function tlsFrom(props: Record<string, string>, bad: (what: string) => never): TlsSettings {
  const trustType = (props['ssl.truststore.type'] ?? '').toUpperCase()
  const keyType = (props['ssl.keystore.type'] ?? '').toUpperCase()
  const caPath = props['ssl.ca.location'] ?? (trustType === 'PEM' ? props['ssl.truststore.location'] : undefined)
  const tls: TlsSettings = {
    rejectUnauthorized: (props['enable.ssl.certificate.verification'] ?? 'true') !== 'false',
    checkHostname: (props['ssl.endpoint.identification.algorithm'] ?? 'https') !== '',
  }
  if (caPath) tls.ca = readPem(caPath, 'ssl.ca.location', bad)
  else if (props['ssl.truststore.location']) tls.ca = fromStore(bad, (keyStores) => keyStores.readTrustStore(storeFile(props, 'truststore')))
  else if (props['ssl.truststore.certificates']) tls.ca = props['ssl.truststore.certificates']
  const passphrase = props['ssl.key.password']
  if (passphrase) tls.passphrase = passphrase
  if (props['ssl.certificate.location']) tls.cert = readPem(props['ssl.certificate.location'], 'ssl.certificate.location', bad)
  else if (props['ssl.keystore.location'] && keyType === 'PEM') {
    // Kafka's PEM key store is one file with the private key and the certificate chain; Node picks each block it needs.
    tls.cert = readPem(props['ssl.keystore.location'], 'ssl.keystore.location', bad)
    tls.key = tls.cert
  } else if (props['ssl.keystore.location']) {
    const material = fromStore(bad, (keyStores) => keyStores.readKeyStore(storeFile(props, 'keystore'), passphrase))
    if ('pfx' in material) {
      tls.pfx = material.pfx
      tls.passphrase = material.passphrase
    } else {
      tls.cert = material.cert
      tls.key = material.key
      // The JKS key came out decrypted: no passphrase applies to it any more.
      delete tls.passphrase
    }
  } else if (props['ssl.keystore.certificate.chain']) tls.cert = props['ssl.keystore.certificate.chain']
  if (props['ssl.key.location']) tls.key = readPem(props['ssl.key.location'], 'ssl.key.location', bad)
  else if (props['ssl.keystore.key']) tls.key = props['ssl.keystore.key']
  return tls
}

function storeFile(props: Record<string, string>, which: 'truststore' | 'keystore') {
  return {
    path: props[`ssl.${which}.location`]!,
    property: `ssl.${which}.location`,
    password: props[`ssl.${which}.password`] || undefined,
    declaredType: props[`ssl.${which}.type`],
  }
}

/** Reads a JKS or PKCS12 store; what is wrong with it becomes the properties file's error. */
function fromStore<T>(bad: (what: string) => never, read: (keyStores: typeof stores) => T): T {
  try {
    return read(stores)
  } catch (error) {
    if (error instanceof stores.StoreProblem) return bad(error.message)
    throw error
  }
}

const MECHANISMS: Record<string, SaslMechanism> = {
  PLAIN: 'plain',
  'SCRAM-SHA-256': 'scram-sha-256',
  'SCRAM-SHA-512': 'scram-sha-512',
  OAUTHBEARER: 'oauthbearer',
}

const SUPPORTED = 'PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER'

/** A JAAS option: key="value" (quotes and escapes as Java reads them) or key=value. */
function jaasOption(jaas: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s;"]+))`).exec(jaas)
  if (!match) return undefined
  return match[1] === undefined ? match[2] : match[1].replace(/\\(.)/g, '$1')
}

function saslFrom(props: Record<string, string>, bad: (what: string) => never): SaslSettings {
  const name = (props['sasl.mechanism'] ?? 'PLAIN').toUpperCase()
  if (name === 'GSSAPI')
    bad(
      "sasl.mechanism GSSAPI (Kerberos) is not supported by recover; use SCRAM-SHA-512, OAUTHBEARER or a TLS client certificate (ssl.keystore.location) if the cluster offers one, or Kafka's own tools on a Kerberos-only cluster.",
    )
  const mechanism = MECHANISMS[name] ?? bad(`sasl.mechanism "${props['sasl.mechanism']}" is not supported; use ${SUPPORTED}.`)
  const jaas = props['sasl.jaas.config'] ?? ''
  if (mechanism === 'oauthbearer') return oauthFrom(props, jaas, bad)
  const username = props['sasl.username'] ?? jaasOption(jaas, 'username')
  const password = props['sasl.password'] ?? jaasOption(jaas, 'password')
  if (!username || password === undefined) {
    bad('SASL needs a username and password; set sasl.jaas.config (… username="u" password="p";) or sasl.username and sasl.password.')
  }
  registerSecret(password!)
  return { mechanism, username: username!, password: password! }
}

/** OAUTHBEARER as Kafka's OAuthBearerLoginCallbackHandler reads it: the token endpoint, and the client credentials in the JAAS config. */
function oauthFrom(props: Record<string, string>, jaas: string, bad: (what: string) => never): SaslSettings {
  const tokenEndpoint = props['sasl.oauthbearer.token.endpoint.url']
  if (!tokenEndpoint)
    bad("OAUTHBEARER needs sasl.oauthbearer.token.endpoint.url (the identity provider's token URL for the client-credentials flow, or file:/path of a token).")
  let url: URL
  try {
    url = new URL(tokenEndpoint!)
  } catch {
    return bad(`sasl.oauthbearer.token.endpoint.url "${tokenEndpoint}" is not a URL; give https://…, http://… or file:/path.`)
  }
  if (!['http:', 'https:', 'file:'].includes(url.protocol))
    bad(`sasl.oauthbearer.token.endpoint.url "${tokenEndpoint}" uses ${url.protocol}; only https, http and file URLs are supported, as in Kafka.`)
  // Kafka 4.1 (KIP-1139) moved the credentials from the JAAS options to properties; both are read, the properties first.
  const clientId = props['sasl.oauthbearer.client.credentials.client.id'] || jaasOption(jaas, 'clientId') || ''
  const clientSecret = props['sasl.oauthbearer.client.credentials.client.secret'] || jaasOption(jaas, 'clientSecret') || ''
  if (url.protocol !== 'file:' && (!clientId || !clientSecret))
    bad(
      'OAUTHBEARER needs a client id and secret: clientId and clientSecret in sasl.jaas.config (…OAuthBearerLoginModule required clientId="…" clientSecret="…";), or sasl.oauthbearer.client.credentials.client.id and .client.secret.',
    )
  if (clientSecret) registerSecret(clientSecret)
  const extensions: Record<string, string> = {}
  for (const match of jaas.matchAll(/(?:^|\s)extension_([A-Za-z0-9_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))/g))
    extensions[match[1]!] = match[2] ?? match[3] ?? ''
  const scope = props['sasl.oauthbearer.scope'] || jaasOption(jaas, 'scope')
  return {
    mechanism: 'oauthbearer',
    username: clientId,
    password: clientSecret,
    oauth: {
      tokenEndpoint: tokenEndpoint!,
      ...(scope ? { scope } : {}),
      extensions,
      urlencodeHeader: (props['sasl.oauthbearer.header.urlencode'] ?? 'false').toLowerCase() === 'true',
      subClaim: props['sasl.oauthbearer.sub.claim.name'] || 'sub',
    },
  }
}
