import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { RecoveryError } from '../errors.js'

/** A named cluster in recover.config.json. */
export interface ClusterConfig {
  /** "host:port,host:port" or a list. */
  brokers?: string | string[]
  /** A Kafka client .properties file, relative to the config file. */
  clientConfig?: string
  /** Inline client properties; "${VAR}" is read from the environment so secrets stay out of the file. */
  properties?: Record<string, string>
  /** Kafka Connect REST URL of this cluster's workers, for recover connect and seek --connector. */
  connectUrl?: string
  /** Connect REST credentials: basic (connectUser + connectPassword) or a bearer token; "${VAR}" is read from the environment. */
  connectUser?: string
  connectPassword?: string
  connectToken?: string
  /** PEM CA file for an https connectUrl, relative to the config file. */
  connectCaFile?: string
}

export interface ProjectDefaults {
  cluster?: string
  schemaDir?: string
  quarantineTopic?: string
  journalDir?: string
  /** Folder for journals, checkpoints, run logs and audit history, relative to the config file. */
  stateDir?: string
  tz?: string
}

export interface ProjectConfig {
  /** Absolute path of the file this came from, or undefined when there is none. */
  path?: string
  clusters: Record<string, ClusterConfig>
  defaults: ProjectDefaults
}

export const PROJECT_CONFIG_FILE = 'recover.config.json'

/** Loads --config, else recover.config.json in the working directory, else an empty config. */
export function loadProjectConfig(explicitPath: string | undefined, cwd = process.cwd()): ProjectConfig {
  const path = explicitPath ? resolve(cwd, explicitPath) : resolve(cwd, PROJECT_CONFIG_FILE)
  if (!existsSync(path)) {
    if (explicitPath) {
      throw new RecoveryError('CONFIG_NOT_FOUND', `The config file ${path} does not exist; check the path given to --config.`)
    }
    return { clusters: {}, defaults: {} }
  }
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (cause) {
    throw new RecoveryError('BAD_CONFIG', `${path} is not valid JSON (${(cause as Error).message}); fix the file or pass another with --config.`, { cause })
  }
  return validateProjectConfig(raw, path)
}

export function validateProjectConfig(raw: unknown, path: string): ProjectConfig {
  const bad = (what: string): never => {
    throw new RecoveryError('BAD_CONFIG', `${path}: ${what}`, { details: { file: path } })
  }
  if (!isObject(raw)) bad('the file must hold a JSON object with "clusters" and "defaults".')
  const obj = raw as Record<string, unknown>
  const clusters: Record<string, ClusterConfig> = {}
  if (obj.clusters !== undefined) {
    if (!isObject(obj.clusters)) bad('"clusters" must be an object of named clusters, e.g. {"prod": {"brokers": "kafka-1:9092"}}.')
    for (const [name, value] of Object.entries(obj.clusters as Record<string, unknown>)) {
      if (!isObject(value)) bad(`cluster "${name}" must be an object with "brokers" and/or "clientConfig".`)
      const c = value as Record<string, unknown>
      const brokersOk = c.brokers === undefined || typeof c.brokers === 'string' || (Array.isArray(c.brokers) && c.brokers.every((b) => typeof b === 'string'))
      if (!brokersOk) bad(`cluster "${name}": "brokers" must be "host:port,host:port" or a list of strings.`)
      if (c.clientConfig !== undefined && typeof c.clientConfig !== 'string') bad(`cluster "${name}": "clientConfig" must be a file path.`)
      if (c.properties !== undefined && !(isObject(c.properties) && Object.values(c.properties).every((v) => typeof v === 'string'))) {
        bad(`cluster "${name}": "properties" must map property names to strings.`)
      }
      for (const key of ['connectUrl', 'connectUser', 'connectPassword', 'connectToken', 'connectCaFile'])
        if (c[key] !== undefined && typeof c[key] !== 'string') bad(`cluster "${name}": "${key}" must be a string.`)
      clusters[name] = {
        brokers: c.brokers as ClusterConfig['brokers'],
        clientConfig: c.clientConfig === undefined ? undefined : resolve(dirname(path), c.clientConfig as string),
        properties: c.properties as Record<string, string> | undefined,
        ...(c.connectUrl === undefined ? {} : { connectUrl: c.connectUrl as string }),
        ...(c.connectUser === undefined ? {} : { connectUser: c.connectUser as string }),
        ...(c.connectPassword === undefined ? {} : { connectPassword: c.connectPassword as string }),
        ...(c.connectToken === undefined ? {} : { connectToken: c.connectToken as string }),
        ...(c.connectCaFile === undefined ? {} : { connectCaFile: resolve(dirname(path), c.connectCaFile as string) }),
      }
    }
  }
  const defaults: ProjectDefaults = {}
  if (obj.defaults !== undefined) {
    if (!isObject(obj.defaults)) bad('"defaults" must be an object.')
    for (const [key, value] of Object.entries(obj.defaults as Record<string, unknown>)) {
      if (!['cluster', 'schemaDir', 'quarantineTopic', 'journalDir', 'stateDir', 'tz'].includes(key)) {
        bad(`unknown default "${key}"; known: cluster, schemaDir, quarantineTopic, journalDir, stateDir, tz.`)
      }
      if (typeof value !== 'string') bad(`default "${key}" must be a string.`)
      defaults[key as keyof ProjectDefaults] =
        key === 'schemaDir' || key === 'journalDir' || key === 'stateDir' ? resolve(dirname(path), value as string) : (value as string)
    }
  }
  if (defaults.cluster && !clusters[defaults.cluster])
    bad(`defaults.cluster "${defaults.cluster}" is not one of the clusters (${Object.keys(clusters).join(', ') || 'none'}).`)
  return { path, clusters, defaults }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
