import { RecoveryError } from '../errors.js'
import { parseTimeSpec, type TimeSpecOptions } from './time-spec.js'

/**
 * The `--where` language of `recover find` (and of `first-match:` / `last-match:` bounds):
 *
 *   header app-version = 1.6.0 and not (value.status = "PAID" or key matches /^test-/)
 *
 * Fields: `key`, `header NAME`, `value` (the value as UTF-8 text), `value.a.b` (a field of the
 * decoded value), `timestamp` (or `time`), `partition`, `offset`. Tests: = != < <= > >=,
 * `contains`, `matches /re/flags`, `exists`. Combined with `and`, `or`, `not` and parentheses
 * (`not` binds tighter than `and`, `and` tighter than `or`). Literals are quoted strings ("…" or
 * '…') or bare words (1.6.0, 42, PAID, 2018-03-21T00:00, -2h). docs/commands/find.md is the
 * reference. Pure: no I/O.
 */

export type PredicateField =
  | { kind: 'key' }
  | { kind: 'header'; name: string }
  | { kind: 'value'; path: string[] }
  | { kind: 'timestamp' }
  | { kind: 'partition' }
  | { kind: 'offset' }

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>='

export interface PredicateLiteral {
  text: string
  /** Set for an unquoted number: compared as a number with fields that hold one. */
  number?: number
  quoted: boolean
  /** For timestamp tests: the literal read as a time (time-spec.ts, with --tz). */
  instantMs?: number
}

export type PredicateTest =
  | { op: 'exists' }
  | { op: CompareOp; literal: PredicateLiteral }
  | { op: 'contains'; literal: PredicateLiteral }
  | { op: 'matches'; regex: RegExp }

export type Predicate =
  | { kind: 'and' | 'or'; left: Predicate; right: Predicate }
  | { kind: 'not'; operand: Predicate }
  | { kind: 'test'; field: PredicateField; test: PredicateTest }

/** What the evaluator asks of one record; the scanner answers lazily, from the fetch bytes. */
export interface PredicateRecord {
  readonly partition: number
  readonly offset: bigint
  readonly timestampMs: number
  /** The key as UTF-8 text; null for a null key. */
  key(): string | null
  /** Values of every header with this name (null for a null value), in record order; empty when none. */
  headerValues(name: string): ReadonlyArray<string | null>
  /** The value as UTF-8 text; null for a tombstone. */
  valueText(): string | null
  /** The decoded value; undefined when it could not be decoded (or is a tombstone). */
  decodedValue(): unknown
  /**
   * Optional shortcut for JSON values: false only when the value's bytes certainly hold no
   * field equal to or containing `text` (no escapes in them and `text` nowhere), so such
   * records need not be decoded. True (or no method) means "decode and look".
   */
  valueMayContain?(text: string): boolean
}

export interface ParsedPredicate {
  /** The text as written. */
  source: string
  predicate: Predicate
  /** Some test reads a field of the decoded value: values must be decoded. */
  needsDecodedValue: boolean
  test(record: PredicateRecord): boolean
}

const FIELDS = 'key, header NAME, value, value.FIELD, timestamp, partition or offset'
const TESTS = '=, !=, <, <=, >, >=, contains, matches /regex/ or exists'
const EXAMPLE = 'e.g. --where \'header app-version = 1.6.0 and value.status != "PAID"\''

/**
 * Parses a --where predicate. Times in timestamp tests are read with `options` (tz, now).
 * @throws RecoveryError BAD_PREDICATE naming the column and what was expected there.
 */
export function parsePredicate(source: string, options: TimeSpecOptions & { flag?: string } = {}): ParsedPredicate {
  const parser = new Parser(source, options)
  const predicate = parser.parse()
  return { source, predicate, needsDecodedValue: readsDecodedValue(predicate), test: compile(predicate) }
}

function readsDecodedValue(p: Predicate): boolean {
  switch (p.kind) {
    case 'and':
    case 'or':
      return readsDecodedValue(p.left) || readsDecodedValue(p.right)
    case 'not':
      return readsDecodedValue(p.operand)
    case 'test':
      return p.field.kind === 'value' && p.field.path.length > 0
  }
}

// ---------------------------------------------------------------------------------------------
// Lexer and parser

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'op'; text: CompareOp; at: number }
  | { kind: 'paren'; text: '(' | ')'; at: number }
  | { kind: 'end'; text: ''; at: number }

const WORD_STOP = /[\s()'"=!<>]/

class Parser {
  private position = 0
  private peeked: Token | undefined
  private readonly flag: string

  constructor(
    private readonly source: string,
    private readonly options: TimeSpecOptions & { flag?: string },
  ) {
    this.flag = options.flag ?? '--where'
  }

  parse(): Predicate {
    if (this.source.trim() === '') throw this.error(0, `${this.flag} is empty; write a test such as ${EXAMPLE}`)
    const predicate = this.or()
    const rest = this.next()
    if (rest.kind !== 'end') throw this.error(rest.at, `expected and, or or the end after a complete test, found ${show(rest)}`)
    return predicate
  }

  private or(): Predicate {
    let left = this.and()
    while (this.isKeyword(this.peek(), 'or')) {
      this.next()
      left = { kind: 'or', left, right: this.and() }
    }
    return left
  }

  private and(): Predicate {
    let left = this.unary()
    while (this.isKeyword(this.peek(), 'and')) {
      this.next()
      left = { kind: 'and', left, right: this.unary() }
    }
    return left
  }

  private unary(): Predicate {
    const token = this.peek()
    if (this.isKeyword(token, 'not')) {
      this.next()
      return { kind: 'not', operand: this.unary() }
    }
    if (token.kind === 'paren' && token.text === '(') {
      this.next()
      const inner = this.or()
      const close = this.next()
      if (close.kind !== 'paren' || close.text !== ')') throw this.error(close.at, `expected ) to close the ( at column ${token.at + 1}, found ${show(close)}`)
      return inner
    }
    return this.comparison()
  }

  private comparison(): Predicate {
    const field = this.field()
    const token = this.next()
    if (token.kind === 'op') return { kind: 'test', field, test: { op: token.text, literal: this.literal(field) } }
    if (this.isKeyword(token, 'exists')) return { kind: 'test', field, test: { op: 'exists' } }
    if (this.isKeyword(token, 'contains')) {
      this.refuseOn(field, token, 'contains')
      return { kind: 'test', field, test: { op: 'contains', literal: this.literal(field) } }
    }
    if (this.isKeyword(token, 'matches')) {
      this.refuseOn(field, token, 'matches')
      return { kind: 'test', field, test: { op: 'matches', regex: this.regex() } }
    }
    throw this.error(token.at, `expected ${TESTS} after ${describeField(field)}, found ${show(token)}`)
  }

  private refuseOn(field: PredicateField, token: Token, op: string): void {
    if (field.kind === 'timestamp' || field.kind === 'partition' || field.kind === 'offset')
      throw this.error(token.at, `${op} does not apply to ${describeField(field)}; compare it with =, !=, <, <=, > or >=`)
  }

  private field(): PredicateField {
    const token = this.next()
    if (token.kind !== 'word') throw this.error(token.at, `expected a field (${FIELDS}), found ${show(token)}`)
    const word = token.text.toLowerCase()
    if (word === 'key') return { kind: 'key' }
    if (word === 'timestamp' || word === 'time') return { kind: 'timestamp' }
    if (word === 'partition') return { kind: 'partition' }
    if (word === 'offset') return { kind: 'offset' }
    if (word === 'header' || word === 'headers') {
      const name = this.next()
      if (name.kind !== 'word' && name.kind !== 'string')
        throw this.error(name.at, `expected the header's name after header (quote it if it has spaces: header "my header"), found ${show(name)}`)
      return { kind: 'header', name: name.text }
    }
    if (word === 'value') return { kind: 'value', path: [] }
    if (word.startsWith('value.')) {
      const path = token.text.slice('value.'.length).split('.')
      if (path.some((p) => p === '')) throw this.error(token.at, `${token.text} has an empty field name; write value.customer.id`)
      return { kind: 'value', path }
    }
    throw this.error(token.at, `unknown field ${show(token)}; use ${FIELDS}`)
  }

  private literal(field: PredicateField): PredicateLiteral {
    const token = this.next()
    if (token.kind !== 'word' && token.kind !== 'string')
      throw this.error(token.at, `expected a value to compare ${describeField(field)} with (a number, a word or a "quoted string"), found ${show(token)}`)
    const literal: PredicateLiteral = { text: token.text, quoted: token.kind === 'string' }
    if (token.kind === 'word' && NUMBER.test(token.text)) literal.number = Number(token.text)
    if (field.kind === 'timestamp') {
      try {
        literal.instantMs = parseTimeSpec(token.text, this.options).instantMs
      } catch (error) {
        const reason = error instanceof RecoveryError ? error.message.replace(/\.$/, '') : String(error)
        throw this.error(token.at, `the time ${show(token)} cannot be read (${reason})`)
      }
    }
    if ((field.kind === 'partition' || field.kind === 'offset') && !/^\d+$/.test(token.text))
      throw this.error(token.at, `${describeField(field)} is compared with a whole number, not ${show(token)}`)
    return literal
  }

  private regex(): RegExp {
    this.peeked = undefined
    while (this.position < this.source.length && /\s/.test(this.source[this.position]!)) this.position++
    const at = this.position
    const quote = this.source[at]
    if (quote === '"' || quote === "'") {
      const token = this.next()
      return this.compileRegex(token.text, '', at)
    }
    if (quote !== '/') throw this.error(at, `expected a regular expression after matches, written /like this/ or /like this/i`)
    let i = at + 1
    let body = ''
    while (i < this.source.length && this.source[i] !== '/') {
      if (this.source[i] === '\\' && i + 1 < this.source.length) {
        body += this.source[i]! + this.source[i + 1]!
        i += 2
        continue
      }
      body += this.source[i]
      i++
    }
    if (i >= this.source.length) throw this.error(at, 'the regular expression has no closing /; write matches /pattern/')
    i++
    let flags = ''
    while (i < this.source.length && /[a-z]/i.test(this.source[i]!)) flags += this.source[i++]
    this.position = i
    return this.compileRegex(body, flags, at)
  }

  private compileRegex(body: string, flags: string, at: number): RegExp {
    if (/[gy]/.test(flags)) throw this.error(at, `the flags g and y do not apply to a test; use i, m, s or u`)
    try {
      return new RegExp(body, flags)
    } catch (error) {
      throw this.error(at, `the regular expression /${body}/${flags} is not valid (${(error as Error).message})`)
    }
  }

  private isKeyword(token: Token, word: string): boolean {
    return token.kind === 'word' && token.text.toLowerCase() === word
  }

  private peek(): Token {
    this.peeked ??= this.read()
    return this.peeked
  }

  private next(): Token {
    const token = this.peek()
    this.peeked = undefined
    return token
  }

  private read(): Token {
    const s = this.source
    while (this.position < s.length && /\s/.test(s[this.position]!)) this.position++
    const at = this.position
    if (at >= s.length) return { kind: 'end', text: '', at }
    const c = s[at]!
    if (c === '(' || c === ')') {
      this.position++
      return { kind: 'paren', text: c, at }
    }
    if (c === '"' || c === "'") return this.readString(c, at)
    const two = s.slice(at, at + 2)
    if (two === '!=' || two === '<=' || two === '>=' || two === '==') {
      this.position += 2
      return { kind: 'op', text: two === '==' ? '=' : two, at }
    }
    if (c === '=' || c === '<' || c === '>') {
      this.position++
      return { kind: 'op', text: c, at }
    }
    if (c === '!') throw this.error(at, 'a lone ! is not an operator; write != for "not equal" or not before a test')
    let end = at
    while (end < s.length && !WORD_STOP.test(s[end]!)) end++
    this.position = end
    return { kind: 'word', text: s.slice(at, end), at }
  }

  private readString(quote: string, at: number): Token {
    const s = this.source
    let i = at + 1
    let text = ''
    while (i < s.length && s[i] !== quote) {
      if (s[i] === '\\' && i + 1 < s.length) {
        text += s[i + 1]
        i += 2
        continue
      }
      text += s[i]
      i++
    }
    if (i >= s.length) throw this.error(at, `the string starting with ${quote} is not closed; end it with ${quote}`)
    this.position = i + 1
    return { kind: 'string', text, at }
  }

  private error(at: number, problem: string): RecoveryError {
    // The caret lines up under the column where next steps are printed after "  → " (4 cells).
    const pointer = `${this.source}\n${' '.repeat(at + 4)}^`
    return new RecoveryError('BAD_PREDICATE', `Cannot read ${this.flag} at column ${at + 1}: ${problem}.`, {
      nextSteps: [pointer, `Fields: ${FIELDS}; tests: ${TESTS}; combine with and, or, not and parentheses (docs/commands/find.md).`],
      details: { where: this.source, column: at + 1 },
    })
  }
}

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/

function show(token: Token): string {
  if (token.kind === 'end') return 'the end'
  if (token.kind === 'string') return JSON.stringify(token.text)
  return `"${token.text}"`
}

function describeField(field: PredicateField): string {
  switch (field.kind) {
    case 'header':
      return `header ${field.name}`
    case 'value':
      return field.path.length === 0 ? 'value' : `value.${field.path.join('.')}`
    default:
      return field.kind
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

type Test = (record: PredicateRecord) => boolean

function compile(p: Predicate): Test {
  switch (p.kind) {
    case 'and': {
      const left = compile(p.left)
      const right = compile(p.right)
      return (r) => left(r) && right(r)
    }
    case 'or': {
      const left = compile(p.left)
      const right = compile(p.right)
      return (r) => left(r) || right(r)
    }
    case 'not': {
      const operand = compile(p.operand)
      return (r) => !operand(r)
    }
    case 'test':
      return compileTest(p.field, p.test)
  }
}

function compileTest(field: PredicateField, test: PredicateTest): Test {
  switch (field.kind) {
    case 'timestamp': {
      if (test.op === 'exists') return () => true
      const op = test.op as CompareOp
      const instant = (test as { literal: PredicateLiteral }).literal.instantMs!
      return (r) => compareNumbers(r.timestampMs, instant, op)
    }
    case 'partition': {
      if (test.op === 'exists') return () => true
      const op = test.op as CompareOp
      const n = Number((test as { literal: PredicateLiteral }).literal.text)
      return (r) => compareNumbers(r.partition, n, op)
    }
    case 'offset': {
      if (test.op === 'exists') return () => true
      const op = test.op as CompareOp
      const n = BigInt((test as { literal: PredicateLiteral }).literal.text)
      return (r) => compareOrdered(r.offset === n ? 0 : r.offset < n ? -1 : 1, op)
    }
    case 'key': {
      const check = valueTest(test)
      return (r) => {
        const key = r.key()
        return key !== null && check(key)
      }
    }
    case 'header': {
      const check = valueTest(test)
      const name = field.name
      return (r) => {
        const values = r.headerValues(name)
        for (const v of values) if (test.op === 'exists' || (v !== null && check(v))) return true
        return false
      }
    }
    case 'value': {
      const check = valueTest(test)
      if (field.path.length === 0)
        return (r) => {
          const text = r.valueText()
          return text !== null && check(text)
        }
      const path = field.path
      const needle = rawNeedle(test)
      return (r) => {
        if (needle !== undefined && r.valueMayContain?.(needle) === false) return false
        const v = fieldAtPath(r.decodedValue(), path)
        return v !== undefined && check(v)
      }
    }
  }
}

/**
 * Text that must appear verbatim in the JSON bytes of a value for an `=` test on one of its
 * fields to pass: a literal that is not a number (1.0 = 1 compares numbers written
 * differently), with no character JSON may escape and none of an object's or array's text.
 * Not for contains: a number's or an object's text can differ from how the JSON spells it.
 * Undefined: no shortcut.
 */
function rawNeedle(test: PredicateTest): string | undefined {
  if (test.op !== '=') return undefined
  const literal = test.literal
  if (literal.number !== undefined || literal.text === '' || !/^[^\\"{}[\]\u0000-\u001f\u007f-\uffff]*$/.test(literal.text)) return undefined
  return literal.text
}

/** The field at `path` of a decoded value; undefined when absent (also inside arrays by index: items.0.sku). */
export function fieldAtPath(value: unknown, path: readonly string[]): unknown {
  let v = value
  for (const name of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string, unknown>)[name]
  }
  return v
}

/** A test on a present value (a key or header as text, or a decoded field of any JSON type). */
function valueTest(test: PredicateTest): (v: unknown) => boolean {
  switch (test.op) {
    case 'exists':
      return () => true
    case 'matches': {
      const regex = test.regex
      return (v) => regex.test(asText(v))
    }
    case 'contains': {
      const literal = test.literal
      return (v) => {
        if (Array.isArray(v)) return v.some((item) => equals(item, literal))
        return asText(v).includes(literal.text)
      }
    }
    default: {
      const literal = test.literal
      const op = test.op
      if (op === '=') return (v) => equals(v, literal)
      if (op === '!=') return (v) => !equals(v, literal)
      return (v) => {
        const order = ordering(v, literal)
        return order !== undefined && compareOrdered(order, op)
      }
    }
  }
}

function equals(v: unknown, literal: PredicateLiteral): boolean {
  if (v === null) return !literal.quoted && literal.text === 'null'
  if (typeof v === 'boolean') return !literal.quoted && literal.text === String(v)
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (literal.number !== undefined) return Number(v) === literal.number
    return String(v) === literal.text
  }
  if (typeof v === 'string') {
    if (v === literal.text) return true
    // An unquoted number equals the same number written otherwise ("1.0" = 1), as in a header.
    return literal.number !== undefined && isNumeric(v) && Number(v) === literal.number
  }
  return asText(v) === literal.text
}

/** -1, 0 or 1 for value vs literal; numbers as numbers, text as text (code points); undefined when not comparable. */
function ordering(v: unknown, literal: PredicateLiteral): number | undefined {
  if (typeof v === 'number' || typeof v === 'bigint') {
    const n = literal.number ?? (isNumeric(literal.text) ? Number(literal.text) : undefined)
    if (n === undefined) return undefined
    const x = Number(v)
    return x === n ? 0 : x < n ? -1 : 1
  }
  if (typeof v === 'string') {
    if (literal.number !== undefined && isNumeric(v)) {
      const x = Number(v)
      return x === literal.number ? 0 : x < literal.number ? -1 : 1
    }
    return v === literal.text ? 0 : v < literal.text ? -1 : 1
  }
  return undefined
}

function isNumeric(text: string): boolean {
  return NUMBER.test(text.trim())
}

function asText(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (v === null) return 'null'
  if (Buffer.isBuffer(v)) return v.toString('utf8')
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? ''
}

function compareNumbers(a: number, b: number, op: CompareOp): boolean {
  return compareOrdered(a === b ? 0 : a < b ? -1 : 1, op)
}

function compareOrdered(order: number, op: CompareOp): boolean {
  switch (op) {
    case '=':
      return order === 0
    case '!=':
      return order !== 0
    case '<':
      return order < 0
    case '<=':
      return order <= 0
    case '>':
      return order > 0
    case '>=':
      return order >= 0
  }
}

/** A match bound (`first-match:PRED`, `last-match:PRED`) of seek --to and replay --from/--to. */
export interface MatchEdgeSpec {
  edge: 'first' | 'last'
  where: string
}

/** `first-match:…` / `last-match:…`, or undefined for any other spec. The predicate is checked here (BAD_PREDICATE). */
export function parseMatchEdge(input: string, flag: string, options: TimeSpecOptions = {}): MatchEdgeSpec | undefined {
  const m = /^\s*(first|last)-match:(.*)$/is.exec(input)
  if (!m) return undefined
  const where = m[2]!
  parsePredicate(where, { ...options, flag: `${flag} ${m[1]!.toLowerCase()}-match:` })
  return { edge: m[1]!.toLowerCase() as 'first' | 'last', where }
}
