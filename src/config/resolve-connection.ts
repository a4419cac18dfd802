import { RecoveryError } from '../errors.js'
import { clientPropertiesFrom, readClientProperties, type ClientProperties } from './client-properties.js'
import type { ConnectionSettings } from './connection-settings.js'
import type { ProjectConfig } from './project-config.js'

export const DEFAULT_BROKERS = 'localhost:9092'

export interface ConnectionRequest {
  brokers?: string
  clientConfig?: string
  cluster?: string
  env?: NodeJS.ProcessEnv
}

/**
 * Precedence, the one people expect: flags, then the environment, then the config file.
 * --brokers, then --client-config's bootstrap servers, then --cluster NAME, then
 * RECOVER_BROKERS, then the config file's default cluster, then localhost:9092. A default
 * cluster that lost to RECOVER_BROKERS brings none of its settings: it names another cluster.
 * Security settings come from --client-config, else from the cluster that was chosen.
 */
export function resolveConnection(request: ConnectionRequest, project: ProjectConfig): ConnectionSettings {
  const env = request.env ?? process.env
  const explicitCluster = request.cluster !== undefined
  const envBrokers = env.RECOVER_BROKERS?.trim() ? env.RECOVER_BROKERS : undefined
  const clusterName = request.cluster ?? (request.brokers || envBrokers ? undefined : project.defaults.cluster)
  let clusterProps: ClientProperties = {}
  let clusterBrokers: string[] | undefined
  if (clusterName) {
    const cluster = project.clusters[clusterName]
    if (!cluster) {
      const known = Object.keys(project.clusters)
      throw new RecoveryError(
        'UNKNOWN_CLUSTER',
        `No cluster named "${clusterName}" in ${project.path ?? 'recover.config.json (none found)'}; known clusters: ${known.join(', ') || 'none'}.`,
      )
    }
    if (cluster.clientConfig) clusterProps = readClientProperties(cluster.clientConfig)
    if (cluster.properties) {
      const expanded = expandEnv(cluster.properties, env, `${project.path} cluster "${clusterName}"`)
      clusterProps = { ...clusterProps, ...definedOnly(clientPropertiesFrom(expanded, `${project.path} cluster "${clusterName}"`)) }
    }
    if (cluster.brokers) clusterBrokers = splitBrokers(cluster.brokers)
  }
  const fileProps = request.clientConfig ? readClientProperties(request.clientConfig) : {}

  let brokers: string[]
  let source: string
  if (request.brokers) {
    brokers = splitBrokers(request.brokers)
    source = '--brokers'
  } else if (fileProps.brokers) {
    brokers = fileProps.brokers
    source = `bootstrap.servers in ${request.clientConfig}`
  } else if (explicitCluster && (clusterBrokers ?? clusterProps.brokers)) {
    brokers = (clusterBrokers ?? clusterProps.brokers)!
    source = `--cluster ${clusterName}`
  } else if (envBrokers) {
    brokers = splitBrokers(envBrokers)
    source = 'RECOVER_BROKERS'
  } else if (clusterBrokers ?? clusterProps.brokers) {
    brokers = (clusterBrokers ?? clusterProps.brokers)!
    source = `cluster "${clusterName}" (the default in ${project.path ?? 'recover.config.json'})`
  } else {
    brokers = [DEFAULT_BROKERS]
    source = 'the default'
  }
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker) && !/^\[[0-9a-f:]+\]:\d{1,5}$/i.test(broker)) {
      throw new RecoveryError('USAGE', `"${broker}" (from ${source}) is not a broker address; use host:port, e.g. --brokers kafka-1:9092,kafka-2:9092.`)
    }
  }
  const security = request.clientConfig ? fileProps : clusterProps
  return {
    brokers,
    clientId: security.clientId ?? fileProps.clientId ?? 'recover',
    ssl: security.ssl,
    sasl: security.sasl,
    source,
  }
}

function splitBrokers(value: string | string[]): string[] {
  const list = Array.isArray(value) ? value : value.split(',')
  return list.map((b) => b.trim()).filter(Boolean)
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

function expandEnv(props: Record<string, string>, env: NodeJS.ProcessEnv, where: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(props)) {
    out[key] = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name]
      if (v === undefined)
        throw new RecoveryError('BAD_CONFIG', `${where}: property ${key} uses \${${name}}, which is not set in the environment; export it first.`)
      return v
    })
  }
  return out
}
