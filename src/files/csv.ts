import { parseString, writeToString } from 'fast-csv'

/** Rows (arrays of cells) as CSV text with a line end after each row (RFC 4180 quoting, by fast-csv). */
export async function formatCsvRows(rows: string[][]): Promise<string> {
  if (rows.length === 0) return ''
  return writeToString(rows, { headers: false, includeEndRowDelimiter: true })
}

/** The cells of the first row of CSV text (the header row of an existing file). */
export function parseCsvFirstRow(text: string): Promise<string[] | undefined> {
  return new Promise((resolve, reject) => {
    let first: string[] | undefined
    parseString(text, { headers: false, maxRows: 1 })
      .on('error', reject)
      .on('data', (row: string[]) => {
        first ??= row
      })
      .on('end', () => resolve(first))
  })
}
