import { createRequire, register } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)

/** The specifier plugins import the API from. */
export const PLUGIN_API_SPECIFIER = 'recover/plugin-api'
/** The same API under the npm package's name, which a plugin project gets types from (npm i -D kafka-recover). */
export const PACKAGE_PLUGIN_API_SPECIFIER = 'kafka-recover/plugin-api'
const SPECIFIERS = [PLUGIN_API_SPECIFIER, PACKAGE_PLUGIN_API_SPECIFIER]

let installed = false

/**
 * Lets a plugin anywhere on disk `import { defineTransform } from 'recover/plugin-api'` and get
 * this very module, whether or not `recover` is installed next to it: an ESM resolve hook for
 * ES modules and a CommonJS resolution patch for modules tsx runs as CommonJS (a .ts file
 * outside an ESM package). Only those two specifiers (also `kafka-recover/plugin-api`) are redirected.
 */
export function installPluginApiResolution(): void {
  if (installed) return
  installed = true
  const target = new URL('../plugin-api.js', import.meta.url)
  const path = fileURLToPath(target)
  const Module = require('node:module') as { _resolveFilename: (request: string, ...rest: unknown[]) => string }
  const original = Module._resolveFilename
  Module._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    return SPECIFIERS.includes(request) ? path : original.call(this, request, ...rest)
  }
  const hook = `export async function resolve(specifier, context, next) {
  return ${JSON.stringify(SPECIFIERS)}.includes(specifier) ? { url: ${JSON.stringify(target.href)}, shortCircuit: true } : next(specifier, context)
}`
  register(`data:text/javascript,${encodeURIComponent(hook)}`, import.meta.url)
}
