/** `npm run docs`: regenerates docs/commands/README.md from oclif.manifest.json. */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { renderCommandReference, type Manifest } from './command-reference.js'

const root = process.cwd()
const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as Manifest
writeFileSync(join(root, 'docs', 'commands', 'README.md'), renderCommandReference(manifest))
process.stdout.write('docs/commands/README.md written.\n')
