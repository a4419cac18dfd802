import { existsSync, statSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { RecoveryError } from '../errors.js'
import { isDefinedSink, isDefinedTransform, type DefinedSink, type DefinedTransform } from '../plugin-api.js'
import { installPluginApiResolution } from './plugin-api-resolution.js'

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts'])
const JAVASCRIPT = new Set(['.js', '.mjs', '.cjs'])

/**
 * Imports a plugin module from a path: JavaScript with Node's own import(), TypeScript through
 * tsx (no build step). Every way a plugin can be wrong is a usage error naming the file.
 */
async function importPlugin(path: string, what: 'transform' | 'sink'): Promise<{ file: string; exported: unknown }> {
  const file = resolve(path)
  const flag = what === 'transform' ? '--transform' : '--sink plugin:'
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new RecoveryError('PLUGIN_NOT_FOUND', `The ${what} plugin ${file} does not exist; pass the path of a .ts or .js module to ${flag}.`, {
      details: { path: file },
    })
  }
  const ext = extname(file).toLowerCase()
  if (!TYPESCRIPT.has(ext) && !JAVASCRIPT.has(ext)) {
    throw new RecoveryError('BAD_PLUGIN', `The ${what} plugin ${file} is not a .ts, .mts, .js or .mjs module.`, { details: { path: file } })
  }
  let mod: { default?: unknown }
  installPluginApiResolution()
  try {
    if (TYPESCRIPT.has(ext)) {
      const { tsImport } = await import('tsx/esm/api')
      mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown }
    } else {
      mod = (await import(pathToFileURL(file).href)) as { default?: unknown }
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error)
    throw new RecoveryError('BAD_PLUGIN', `The ${what} plugin ${file} could not be loaded: ${reason}`, { cause: error, details: { path: file } })
  }
  // tsx runs a .ts file outside an ESM package as CommonJS: the namespace's default is then
  // module.exports, holding the real default export (or, without one, only the named exports).
  let exported = mod.default
  const wrapped = exported !== null && typeof exported === 'object' && !isDefinedTransform(exported) && !isDefinedSink(exported)
  if (wrapped && 'default' in (exported as object)) exported = (exported as { default: unknown }).default
  else if (wrapped) {
    const named = Object.keys(mod).filter((k) => k !== 'default')
    if (named.length > 0 && Object.keys(exported as object).every((k) => named.includes(k))) exported = undefined
  }
  if (exported === undefined) {
    throw new RecoveryError(
      'BAD_PLUGIN',
      `The ${what} plugin ${file} has no default export; end it with export default define${what === 'transform' ? 'Transform' : 'Sink'}({ name, version, ${what === 'transform' ? 'transform' : 'write'} }).`,
      { details: { path: file } },
    )
  }
  return { file, exported }
}

export interface LoadedTransform {
  file: string
  plugin: DefinedTransform
}

export async function loadTransformPlugin(path: string): Promise<LoadedTransform> {
  const { file, exported } = await importPlugin(path, 'transform')
  if (!isDefinedTransform(exported)) {
    throw new RecoveryError(
      'BAD_PLUGIN',
      `The default export of ${file} is not a transform: make it with defineTransform({ name, version, transform }) from the plugin API.`,
      { details: { path: file } },
    )
  }
  return { file, plugin: exported }
}

export interface LoadedSink {
  file: string
  plugin: DefinedSink
}

export async function loadSinkPlugin(path: string): Promise<LoadedSink> {
  const { file, exported } = await importPlugin(path, 'sink')
  if (!isDefinedSink(exported)) {
    throw new RecoveryError(
      'BAD_PLUGIN',
      `The default export of ${file} is not a sink: make it with defineSink({ name, version, write }) from the plugin API.`,
      { details: { path: file } },
    )
  }
  return { file, plugin: exported }
}
