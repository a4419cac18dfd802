import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export interface Column {
  header: string
  align?: 'left' | 'right'
}

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

/** A plain, borderless, aligned table (like Kafka's own tools print), safe for pipes and logs. */
export function renderTable(columns: Column[], rows: Array<Array<string | number | bigint | null | undefined>>): string {
  const Table = require('cli-table3') as typeof import('cli-table3')
  const table = new Table({
    head: columns.map((c) => c.header),
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  })
  for (const row of rows) {
    table.push(row.map((cell, i) => ({ content: cell === null || cell === undefined ? '-' : String(cell), hAlign: columns[i]?.align ?? 'left' })))
  }
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
}
