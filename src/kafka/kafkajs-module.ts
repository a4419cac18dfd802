import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/**
 * Puts `exports` in the module cache as kafkajs's module `specifier`, so kafkajs uses recover's
 * version of it. kafkajs binds its modules when it is first required: only before that does
 * this take effect; afterwards it changes nothing and returns false.
 */
export function replaceKafkajsModule(specifier: string, exports: unknown): boolean {
  const path = require.resolve(specifier)
  if (require.cache[path]) return false
  const Module = require('node:module') as { Module: new (id: string) => NodeJS.Module }
  const m = new Module.Module(path)
  m.filename = path
  m.loaded = true
  m.exports = exports
  require.cache[path] = m
  return true
}
