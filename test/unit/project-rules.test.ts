import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ERROR_CODES } from '../../src/errors.js'
import { repoRoot } from '../support/paths.js'

const root = repoRoot()

function sources(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sources(path))
    else if (/\.tsx?$/.test(name)) out.push(path)
  }
  return out
}

interface ImportSite {
  spec: string
  /** Erased at compile time: `import type`, every named binding `type`, or `import('x').T` in a type. */
  typeOnly: boolean
}

/**
 * Every import of a file, each judged on its own (a file with one `import type` may still import
 * an adapter at runtime elsewhere): static imports and re-exports, dynamic `import()` and
 * `require()`, read with the TypeScript parser rather than regular expressions.
 */
function importsOf(file: string): ImportSite[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  )
  const found: ImportSite[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined
      const typeOnly =
        clause !== undefined && (clause.isTypeOnly || (!clause.name && named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)))
      found.push({ spec: node.moduleSpecifier.text, typeOnly })
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, typeOnly: node.isTypeOnly })
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ spec: node.argument.literal.text, typeOnly: true })
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteral(node.arguments[0]!)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require'
      if (isImport || isRequire) found.push({ spec: (node.arguments[0] as ts.StringLiteral).text, typeOnly: false })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** Which library may be imported (at runtime) from where: adapters are the only doors. */
const ADAPTER_ONLY: Array<{ library: RegExp; allowed: RegExp }> = [
  { library: /^kafkajs(\/|$)/, allowed: /^src\/(kafka|local-kafka)\// },
  { library: /^@duckdb\//, allowed: /^src\/duckdb\// },
  { library: /^pg(\/|$)/, allowed: /^src\/postgres\// },
  { library: /^@opensearch-project\//, allowed: /^src\/opensearch\// },
  { library: /^(ink|react)(\/|$)/, allowed: /^src\/ui\// },
  // One copy of oclif per process: the build's bundle, through src/cli/oclif.ts (the help
  // fast path, recover's help class and the build step that writes the bundles read oclif's own modules).
  { library: /^@oclif\/core(\/|$)/, allowed: /^src\/cli\/(oclif|fast-help|recover-help|take-help-snapshot|write-start-up-files)\.ts$/ },
]

test('heavy libraries are imported only by their adapters (type-only imports excepted)', () => {
  const offenders: string[] = []
  for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'commands'))]) {
    const rel = relative(root, file)
    for (const { spec, typeOnly } of importsOf(file)) {
      const rule = ADAPTER_ONLY.find((r) => r.library.test(spec))
      if (!rule || rule.allowed.test(rel)) continue
      if (!typeOnly) offenders.push(`${rel} imports ${spec}`)
    }
  }
  assert.equal(offenders, [])
})

test('src/core is pure: it imports no I/O modules and no adapters', () => {
  const offenders: string[] = []
  for (const file of sources(join(root, 'src', 'core'))) {
    for (const { spec } of importsOf(file)) {
      if (/^node:(fs|net|child_process|http|https)/.test(spec) || /\/(kafka|postgres|duckdb|ui|services)\//.test(spec))
        offenders.push(`${relative(root, file)} imports ${spec}`)
    }
  }
  assert.equal(offenders, [])
})

/** Commands call services; they reach an adapter (or kafkajs) only for its types. */
function commandsImportingAdapters(files: string[]): string[] {
  const offenders: string[] = []
  for (const file of files) {
    for (const { spec, typeOnly } of importsOf(file))
      if (/src\/(kafka|postgres|duckdb)\/|^kafkajs$/.test(spec) && !typeOnly) offenders.push(`${relative(root, file)} imports ${spec}`)
  }
  return offenders
}

test('commands do not import kafkajs or adapters directly: they call services (judged per import)', () => {
  assert.equal(commandsImportingAdapters(sources(join(root, 'commands'))), [])
})

test('the adapter rule sees a runtime import next to a type-only one in the same command file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recover-rules-'))
  const file = join(dir, 'replay.ts')
  writeFileSync(
    file,
    [
      "import type { KafkaGateway } from '../src/kafka/kafka-gateway.js'",
      'export async function run(g: KafkaGateway) {',
      "  const { RangeReader } = await import('../src/kafka/range-reader.js')",
      "  return new RangeReader(g.kafka, g.settings, 't')",
      '}',
    ].join('\n'),
  )
  assert.equal(
    commandsImportingAdapters([file]).map((o) => o.replace(/^.*replay\.ts/, 'replay.ts')),
    ['replay.ts imports ../src/kafka/range-reader.js'],
  )
})

/** kafkajs producers made in tests whose options neither make them idempotent nor opt out. */
function nonIdempotentProducers(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'producer') {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line
      const before = text
        .split('\n')
        .slice(Math.max(0, line - 3), line + 1)
        .join('\n')
      const safe = /idempotent:\s*true|transactionalId|retries:\s*0/.test(node.getText()) || /not idempotent on purpose/.test(before)
      if (!safe) found.push(`${relative(root, file)}:${line + 1}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

test('tests seed topics with idempotent producers: on a loaded machine a retried produce must not write records twice', () => {
  const offenders = ['unit', 'integration', 'e2e', 'faults', 'support', 'connect', 'registry', 'broker']
    .map((dir) => join(root, 'test', dir))
    .filter((dir) => existsSync(dir))
    .flatMap((dir) => sources(dir))
    .flatMap(nonIdempotentProducers)
  assert.equal(offenders, [], 'use .producer({ idempotent: true, maxInFlightRequests: 1 }), a transactional one, or say "not idempotent on purpose" above it')
})

test('every error code has an entry in docs/errors.md, and every entry is a code', () => {
  const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8')
  const documented = [...doc.matchAll(/^## ([A-Z_]+)$/gm)].map((m) => m[1])
  assert.equal(documented.sort(), Object.keys(ERROR_CODES).sort())
})

test.run()
