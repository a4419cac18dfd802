import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/**
 * Puts `exports` in the module cache as kafkajs's module `specifier`, so kafkajs uses recover's
 * version of it wherever it requires the module from now on.
 */
export function putKafkajsModule(specifier: string, exports: unknown): void {
  const path = require.resolve(specifier)
  const Module = require('node:module') as { Module: new (id: string) => NodeJS.Module }
  const m = new Module.Module(path)
  m.filename = path
  m.loaded = true
  m.exports = exports
  require.cache[path] = m
}

/**
 * putKafkajsModule for a module kafkajs binds when it is first required: only before that does
 * the replacement take effect; afterwards this changes nothing and returns false.
 */
export function replaceKafkajsModule(specifier: string, exports: unknown): boolean {
  if (require.cache[require.resolve(specifier)]) return false
  putKafkajsModule(specifier, exports)
  return true
}
