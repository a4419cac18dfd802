import { createRequire } from 'node:module'
import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type Column, renderTable } from '../../src/render/table.js'

const require = createRequire(import.meta.url)

/** The table as cli-table3 prints it with recover's settings: what renderTable printed before it drew plain tables itself. */
function cliTable3(columns: Column[], rows: Array<Array<string | number | bigint | null | undefined>>): string {
  const Table = require('cli-table3') as typeof import('cli-table3')
  const middle = { middle: '  ' }
  const chars = Object.fromEntries(
    [
      'top',
      'top-mid',
      'top-left',
      'top-right',
      'bottom',
      'bottom-mid',
      'bottom-left',
      'bottom-right',
      'left',
      'left-mid',
      'mid',
      'mid-mid',
      'right',
      'right-mid',
    ].map((k) => [k, '']),
  )
  const table = new Table({
    head: columns.map((c) => c.header),
    chars: { ...chars, ...middle },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  })
  for (const row of rows)
    table.push(row.map((cell, i) => ({ content: cell === null || cell === undefined ? '-' : String(cell), hAlign: columns[i]?.align ?? 'left' })))
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
}

const ascii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 12 })
const anyText = fc.string({ unit: fc.constantFrom('a', ' ', '日', 'é', '\n', '\u001b[1m', 'Z', '9'), maxLength: 8 })

function tables(text: fc.Arbitrary<string>) {
  return fc.integer({ min: 1, max: 5 }).chain((width) =>
    fc.record({
      columns: fc.array(fc.record({ header: text, align: fc.constantFrom<'left' | 'right' | undefined>('left', 'right', undefined) }), {
        minLength: width,
        maxLength: width,
      }),
      rows: fc.array(
        fc.array(fc.oneof(text, fc.bigInt({ min: -5n, max: 10n ** 12n }), fc.integer(), fc.constant(null), fc.constant(undefined)), {
          minLength: width,
          maxLength: width,
        }),
        { maxLength: 6 },
      ),
    }),
  )
}

test('plain tables print exactly as cli-table3 printed them: printable ASCII cells of any width and alignment', () => {
  fc.assert(
    fc.property(tables(ascii), ({ columns, rows }) => {
      assert.is(renderTable(columns, rows), cliTable3(columns, rows))
    }),
    { numRuns: 500 },
  )
})

test('wide characters, escapes and line breaks still go through cli-table3', () => {
  fc.assert(
    fc.property(tables(anyText), ({ columns, rows }) => {
      assert.is(renderTable(columns, rows), cliTable3(columns, rows))
    }),
    { numRuns: 200 },
  )
})

test('a table with no rows is its header line', () => {
  assert.is(renderTable([{ header: 'GROUP' }, { header: 'LAG', align: 'right' }], []), 'GROUP  LAG')
})

test.run()
