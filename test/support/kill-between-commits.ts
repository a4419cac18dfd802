import * as assert from 'uvu/assert'
import { spawnCli } from './cli.js'
import { waitFor } from './timeout.js'

/**
 * Runs a replay `kills` times and kills each run with SIGKILL soon after its first commit, between
 * two commits, while batches sit in the sink's open transaction (the run's --rate lets a second's
 * worth through at once, then paces). Every run after the first adds --resume.
 * `committed` reads how many records the durable progress holds (sink table or checkpoint file);
 * `afterKill` runs once each killed run is gone.
 */
export async function killBetweenCommits(options: {
  args: string[]
  cwd: string
  kills: number
  committed: () => number | Promise<number>
  afterKill?: (run: number) => Promise<void>
}): Promise<void> {
  for (let run = 1; run <= options.kills; run++) {
    const before = await options.committed()
    const { child, done } = spawnCli(run === 1 ? options.args : [...options.args, '--resume'], { cwd: options.cwd })
    try {
      await waitFor(`run ${run} to commit records past ${before}`, async () => ((await options.committed()) > before ? true : undefined), 90_000, 10)
      await new Promise((r) => setTimeout(r, 100))
    } finally {
      child.kill('SIGKILL')
    }
    const result = await done
    assert.is(result.signal, 'SIGKILL', `the replay ended before it was killed: ${result.stderr}`)
    await options.afterKill?.(run)
  }
}
