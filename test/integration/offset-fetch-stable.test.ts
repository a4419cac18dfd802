import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTopic, uniqueName, withAdmin, withGateway } from '../support/kafka.js'
import { withTimeout } from '../support/timeout.js'

/**
 * The gateway reads committed offsets with its own OffsetFetch v7 (RequireStable), so a seek's
 * snapshot is not taken from a coordinator's lagging state after a failover. Its answers must be
 * kafkajs's own OffsetFetch answers, partition for partition: kafkajs is the oracle here.
 */

async function kafkajsView(group: string, topics?: string[]): Promise<string[]> {
  return withAdmin(async (admin) =>
    (await admin.fetchOffsets({ groupId: group, ...(topics ? { topics } : {}) }))
      .flatMap(({ topic, partitions }) =>
        partitions.map((p) => `${topic}-${p.partition}=${Number(p.offset) < 0 ? 'none' : p.offset}${p.metadata ? `:${p.metadata}` : ''}`),
      )
      .sort(),
  )
}

async function gatewayView(group: string, topics?: string[]): Promise<string[]> {
  return withGateway(async (g) =>
    (await g.committedOffsets(group, topics)).map((c) => `${c.topic}-${c.partition}=${c.offset ?? 'none'}${c.metadata ? `:${c.metadata}` : ''}`).sort(),
  )
}

test(
  'committed offsets: the stable read equals kafkajs for named topics (never-committed partitions as none) and for all of a group',
  withTimeout(60_000, async () => {
    const a = uniqueName('stable-fetch-a')
    const b = uniqueName('stable-fetch-b')
    const group = uniqueName('stable-fetch-group')
    await createTopic(a, 3)
    await createTopic(b, 2)
    await withAdmin((admin) =>
      admin.setOffsets({
        groupId: group,
        topic: a,
        partitions: [
          { partition: 0, offset: '7' },
          { partition: 2, offset: '12345678901' },
        ],
      }),
    )
    await withGateway((g) => g.commitGroupOffsets(group, [{ topic: b, partition: 1, offset: 3n }]))

    const named = await gatewayView(group, [a, b])
    assert.equal(named, [`${a}-0=7`, `${a}-1=none`, `${a}-2=12345678901`, `${b}-0=none`, `${b}-1=3`].sort())
    assert.equal(named, await kafkajsView(group, [a, b]))

    const all = await gatewayView(group)
    assert.equal(all, [`${a}-0=7`, `${a}-2=12345678901`, `${b}-1=3`].sort())
    assert.equal(
      all,
      (await kafkajsView(group)).filter((line) => !line.endsWith('=none')),
    )

    assert.equal(await gatewayView(uniqueName('stable-fetch-nobody'), [a]), [`${a}-0=none`, `${a}-1=none`, `${a}-2=none`])
  }),
)

test(
  'committed offsets: an unknown topic fails as it did with kafkajs (a typed error that names the topic), not as an empty answer',
  withTimeout(30_000, async () => {
    const missing = uniqueName('stable-fetch-missing')
    const error = await withGateway((g) => g.committedOffsets(uniqueName('stable-fetch-group'), [missing])).catch((e: unknown) => e)
    assert.instance(error, Error)
    assert.match((error as Error).message, missing)
  }),
)

test.run()
