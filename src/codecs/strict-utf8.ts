const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** UTF-8 text, or undefined when the bytes are not valid UTF-8 (never replacement characters). */
export function decodeStrictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return fatal.decode(bytes)
  } catch {
    return undefined
  }
}

/**
 * The offset of the first byte that does not belong to a valid UTF-8 sequence (overlongs,
 * surrogates and code points above U+10FFFF included), or -1 when all bytes are valid. Used
 * only after a decode failed, to say where.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0
  const n = bytes.length
  while (i < n) {
    const b = bytes[i]!
    if (b < 0x80) {
      i++
      continue
    }
    let need: number
    let min: number
    let max = 0xbf
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1
      min = 0x80
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2
      min = b === 0xe0 ? 0xa0 : 0x80
      if (b === 0xed) max = 0x9f
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3
      min = b === 0xf0 ? 0x90 : 0x80
      if (b === 0xf4) max = 0x8f
    } else {
      return i
    }
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]
      if (c === undefined) return i
      const lo = k === 1 ? min : 0x80
      const hi = k === 1 ? max : 0xbf
      if (c < lo || c > hi) return i
    }
    i += need + 1
  }
  return -1
}
