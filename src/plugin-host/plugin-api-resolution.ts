import { createRequire, register } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)

/** The specifier plugins import the API from. */
export const PLUGIN_API_SPECIFIER = 'recover/plugin-api'

let installed = false

/**
 * Lets a plugin anywhere on disk `import { defineTransform } from 'recover/plugin-api'` and get
 * this very module, whether or not `recover` is installed next to it: an ESM resolve hook for
 * ES modules and a CommonJS resolution patch for modules tsx runs as CommonJS (a .ts file
 * outside an ESM package). Only that one specifier is redirected.
 */
export function installPluginApiResolution(): void {
  if (installed) return
  installed = true
  const target = new URL('../plugin-api.js', import.meta.url)
  const path = fileURLToPath(target)
  const Module = require('node:module') as { _resolveFilename: (request: string, ...rest: unknown[]) => string }
  const original = Module._resolveFilename
  Module._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    return request === PLUGIN_API_SPECIFIER ? path : original.call(this, request, ...rest)
  }
  const hook = `export async function resolve(specifier, context, next) {
  return specifier === ${JSON.stringify(PLUGIN_API_SPECIFIER)} ? { url: ${JSON.stringify(target.href)}, shortCircuit: true } : next(specifier, context)
}`
  register(`data:text/javascript,${encodeURIComponent(hook)}`, import.meta.url)
}
