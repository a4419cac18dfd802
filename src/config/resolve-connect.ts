import { RecoveryError } from '../errors.js'
import type { ConnectSettings } from '../connect/connect-client.js'
import type { ProjectConfig } from './project-config.js'

export interface ConnectRequest {
  connectUrl?: string
  connectCa?: string
  brokers?: string
  cluster?: string
  env?: NodeJS.ProcessEnv
}

/**
 * Where Kafka Connect is, with the same precedence as the brokers: --connect-url, then
 * RECOVER_CONNECT_URL, then connectUrl of the chosen cluster (--cluster, else the default one
 * when no --brokers / RECOVER_BROKERS names another cluster). Credentials: user:password in the
 * URL, else RECOVER_CONNECT_USER + RECOVER_CONNECT_PASSWORD or RECOVER_CONNECT_TOKEN, else the
 * cluster's connectUser/connectPassword/connectToken ("${VAR}" read from the environment).
 */
export function resolveConnect(request: ConnectRequest, project: ProjectConfig): ConnectSettings {
  const env = request.env ?? process.env
  const envBrokers = env.RECOVER_BROKERS?.trim() ? env.RECOVER_BROKERS : undefined
  const clusterName = request.cluster ?? (request.brokers || envBrokers ? undefined : project.defaults.cluster)
  const cluster = clusterName ? project.clusters[clusterName] : undefined
  const where = `${project.path ?? 'recover.config.json'} cluster "${clusterName}"`
  let raw: string
  let source: string
  if (request.connectUrl) {
    raw = request.connectUrl
    source = '--connect-url'
  } else if (env.RECOVER_CONNECT_URL?.trim()) {
    raw = env.RECOVER_CONNECT_URL.trim()
    source = 'RECOVER_CONNECT_URL'
  } else if (cluster?.connectUrl) {
    raw = expand(cluster.connectUrl, env, where, 'connectUrl')
    source = `cluster "${clusterName}"`
  } else {
    throw new RecoveryError(
      'USAGE',
      `No Kafka Connect URL: pass --connect-url http://connect:8083, set RECOVER_CONNECT_URL, or add "connectUrl" to the cluster in recover.config.json.`,
    )
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new RecoveryError('USAGE', `"${redactUrl(raw)}" (from ${source}) is not a URL; use e.g. --connect-url http://connect:8083.`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new RecoveryError('USAGE', `"${redactUrl(raw)}" (from ${source}) is not an http or https URL; use e.g. --connect-url https://connect:8083.`)
  let auth: ConnectSettings['auth']
  const credentialsInUrl = url.username !== ''
  if (url.username) auth = { kind: 'basic', user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
  else if (env.RECOVER_CONNECT_TOKEN) auth = { kind: 'bearer', token: env.RECOVER_CONNECT_TOKEN }
  else if (env.RECOVER_CONNECT_USER) auth = { kind: 'basic', user: env.RECOVER_CONNECT_USER, password: env.RECOVER_CONNECT_PASSWORD ?? '' }
  else if (cluster?.connectToken) auth = { kind: 'bearer', token: expand(cluster.connectToken, env, where, 'connectToken') }
  else if (cluster?.connectUser)
    auth = {
      kind: 'basic',
      user: expand(cluster.connectUser, env, where, 'connectUser'),
      password: expand(cluster.connectPassword ?? '', env, where, 'connectPassword'),
    }
  url.username = ''
  url.password = ''
  const caFile = request.connectCa ?? env.RECOVER_CONNECT_CA ?? cluster?.connectCaFile
  return {
    url: url.toString().replace(/\/$/, ''),
    source,
    ...(auth ? { auth } : {}),
    ...(caFile ? { caFile } : {}),
    ...(credentialsInUrl ? { credentialsInUrl } : {}),
  }
}

function redactUrl(raw: string): string {
  return raw.replace(/\/\/[^/@]*@/, '//***@')
}

function expand(value: string, env: NodeJS.ProcessEnv, where: string, key: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = env[name]
    if (v === undefined) throw new RecoveryError('BAD_CONFIG', `${where}: ${key} uses \${${name}}, which is not set in the environment; export it first.`)
    return v
  })
}
