/** How a key or value is shown when no schema is given. */
export type PreviewFormat = 'auto' | 'json' | 'string' | 'bytes'

export interface Preview {
  /** What the bytes turned out to be. */
  format: 'json' | 'string' | 'bytes' | 'null'
  /** Parsed JSON, the text, or a hex string for bytes. */
  value: unknown
  /** Set when the requested format could not read the bytes; the value is then shown as hex. */
  error?: string
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Decodes for display: auto tries JSON, then UTF-8 text, then falls back to hex. */
export function previewBytes(bytes: Buffer | null, format: PreviewFormat = 'auto'): Preview {
  if (bytes === null) return { format: 'null', value: null }
  if (format === 'bytes') return { format: 'bytes', value: bytes.toString('hex') }
  let text: string
  try {
    text = strictUtf8.decode(bytes)
  } catch {
    return format === 'auto' ? { format: 'bytes', value: bytes.toString('hex') } : { format: 'bytes', value: bytes.toString('hex'), error: 'invalid UTF-8' }
  }
  if (format === 'string') return { format: 'string', value: text }
  try {
    return { format: 'json', value: JSON.parse(text) }
  } catch (error) {
    if (format === 'json') return { format: 'bytes', value: bytes.toString('hex'), error: `not JSON: ${(error as Error).message}` }
    return { format: 'string', value: text }
  }
}
