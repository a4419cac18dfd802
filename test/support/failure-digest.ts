/**
 * The failures of a uvu run, in a few lines each, so that the end of a long CI log (often all
 * that is kept) names the failing file and test and says why, next to the totals.
 */

export interface TestFailure {
  file: string
  test: string
  reason: string[]
}

const ANSI = /\x1b\[[0-9;]*m/g
const REASON_LINES = 4

/** Reads uvu's output (colours or not) and returns each "FAIL" block with its file. */
export function collectFailures(output: string): TestFailure[] {
  const lines = output.replace(ANSI, '').split('\n')
  const failures: TestFailure[] = []
  let file = '(unknown file)'
  let current: TestFailure | undefined
  // uvu's "(passed / total)" per file: a file whose tests failed without a FAIL block (an error
  // thrown where uvu cannot name the test) is still listed.
  const counters = new Map<string, { passed: number; total: number }>()
  for (const line of lines) {
    const header = /^(\S.*\.test\.[cm]?js)\s*$/.exec(line)
    if (header) {
      file = header[1] as string
      current = undefined
      continue
    }
    const counter = /\((\d+) \/ (\d+)\)\s*$/.exec(line)
    if (counter) counters.set(file, { passed: Number(counter[1]), total: Number(counter[2]) })
    const fail = /^\s*FAIL\s+"(.*)"\s*$/.exec(line)
    if (fail) {
      current = { file, test: fail[1] as string, reason: [] }
      failures.push(current)
      continue
    }
    if (!current) continue
    const text = line.trim()
    // The stack starts the end of the reason; blank lines inside a diff are skipped.
    if (/^at\s/.test(text) || /^(Total|Passed|Skipped|Duration):/.test(text)) {
      current = undefined
      continue
    }
    if (text !== '' && current.reason.length < REASON_LINES) current.reason.push(text)
  }
  for (const [name, { passed, total }] of counters) {
    const missing = total - passed - failures.filter((f) => f.file === name).length
    if (missing > 0) failures.push({ file: name, test: `${missing} test(s) without a FAIL report`, reason: ['see the output above this summary'] })
  }
  return failures
}

/** "integration/x.test.js › name: reason" lines, indented for the summary. */
export function describeFailures(suite: string, failures: TestFailure[]): string {
  return failures.map((f) => [`  ✘ ${suite}/${f.file} › ${f.test}`, ...f.reason.map((r) => `      ${r}`)].join('\n')).join('\n')
}
