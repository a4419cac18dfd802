import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export interface Column {
  header: string
  align?: 'left' | 'right'
}

type Cell = string | number | bigint | null | undefined

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
}

/** Printable ASCII only: one column per character, no escapes, no line breaks. */
const PLAIN = /^[\x20-\x7e]*$/

/** A plain, borderless, aligned table (like Kafka's own tools print), safe for pipes and logs. */
export function renderTable(columns: Column[], rows: Cell[][]): string {
  const cells = rows.map((row) => row.map(cellText))
  const plain = columns.every((c) => PLAIN.test(c.header)) && cells.every((row) => row.length === columns.length && row.every((text) => PLAIN.test(text)))
  return plain ? renderPlainTable(columns, cells) : renderWithCliTable(columns, cells)
}

function cellText(cell: Cell): string {
  return cell === null || cell === undefined ? '-' : String(cell)
}

/**
 * What cli-table3 prints for printable ASCII, without loading it: it took more time than the
 * Kafka requests of a seek dry run (its layout is quadratic in the cells). The unit tests hold
 * the two to the same output.
 */
function renderPlainTable(columns: Column[], cells: string[][]): string {
  // cli-table3 gives an empty column one character.
  const widths = columns.map((c, i) => cells.reduce((width, row) => Math.max(width, row[i]!.length), Math.max(1, c.header.length)))
  const line = (texts: string[], align: (i: number) => 'left' | 'right') =>
    texts
      .map((text, i) => (align(i) === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const lines = [
    line(
      columns.map((c) => c.header),
      () => 'left',
    ),
  ]
  for (const row of cells) lines.push(line(row, (i) => columns[i]!.align ?? 'left'))
  return lines.join('\n')
}

/** Wide characters, escapes and line breaks: cli-table3 measures and splits them. */
function renderWithCliTable(columns: Column[], cells: string[][]): string {
  const Table = require('cli-table3') as typeof import('cli-table3')
  const table = new Table({
    head: columns.map((c) => c.header),
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  })
  for (const row of cells) table.push(row.map((content, i) => ({ content, hAlign: columns[i]?.align ?? 'left' })))
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
}
