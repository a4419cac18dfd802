import { createInterface } from 'node:readline'
import { RecoveryError } from '../errors.js'

/** What a prompt ended by Ctrl-C says when the command had changed nothing yet. */
export const NOTHING_CHANGED = 'Interrupted at the prompt: nothing was changed.'

/**
 * Ctrl-C at a prompt: the person stopped the command on purpose, so it ends with 130 and one
 * line, never as a bug. `message` says what was (not) done.
 */
export function interruptedAtPrompt(message = NOTHING_CHANGED, options: { nextSteps?: string[]; details?: Record<string, unknown> } = {}): RecoveryError {
  return new RecoveryError('INTERRUPTED', message, options)
}

/**
 * Asks `question` on a terminal and resolves true for y/yes. Anything else, an empty line
 * or the end of input (Ctrl-D) is no. Ctrl-C rejects with INTERRUPTED.
 *
 * readline takes the terminal into raw mode, so Ctrl-C reaches it as a key, not as SIGINT;
 * with a SIGINT listener of its own the interface hands it over instead of rejecting the
 * question with an AbortError (which would look like a bug).
 */
export function askYesNo(question: string, streams: { input?: NodeJS.ReadStream; output?: NodeJS.WriteStream } = {}): Promise<boolean> {
  const rl = createInterface({ input: streams.input ?? process.stdin, output: streams.output ?? process.stderr, terminal: true })
  return new Promise<boolean>((resolve, reject) => {
    let settled = false
    const settle = (finish: () => void) => {
      if (settled) return
      settled = true
      rl.close()
      finish()
    }
    rl.on('SIGINT', () =>
      settle(() => {
        ;(streams.output ?? process.stderr).write('\n')
        reject(interruptedAtPrompt())
      }),
    )
    rl.on('close', () => settle(() => resolve(false)))
    rl.question(question, (answer) => settle(() => resolve(/^y(es)?$/i.test(answer.trim()))))
  })
}

/** The keys a "press a key" pause understands. */
export type PauseKey = 'continue' | 'stop'

/**
 * One key, without Enter: Enter or space continues, q stops, Ctrl-C rejects with
 * INTERRUPTED (its `interrupted` message). Other keys are ignored. The terminal is put back
 * as it was whatever happens.
 */
export function waitForKey(
  prompt: string,
  options: { interrupted: () => RecoveryError; input?: NodeJS.ReadStream; output?: NodeJS.WriteStream },
): Promise<PauseKey> {
  const input = options.input ?? process.stdin
  const output = options.output ?? process.stderr
  output.write(prompt)
  const wasRaw = input.isRaw
  input.setRawMode(true)
  input.resume()
  return new Promise<PauseKey>((resolve, reject) => {
    const finish = (echo: string, end: () => void) => {
      input.off('data', onData)
      input.off('end', onEnd)
      input.setRawMode(wasRaw)
      input.pause()
      output.write(`${echo}\n`)
      end()
    }
    const onData = (chunk: Buffer) => {
      for (const byte of chunk) {
        if (byte === 0x03) return finish('^C', () => reject(options.interrupted()))
        if (byte === 0x71 || byte === 0x51 || byte === 0x04) return finish('q', () => resolve('stop'))
        if (byte === 0x0d || byte === 0x0a || byte === 0x20) return finish('', () => resolve('continue'))
        // Escape sequences (arrows, function keys) start with ESC: skip the rest of the chunk.
        if (byte === 0x1b) return
      }
    }
    const onEnd = () => finish('', () => resolve('stop'))
    input.on('data', onData)
    input.on('end', onEnd)
  })
}
