import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  encodeReplayRange,
  foreignUseOf,
  parseReplayRange,
  replayGroupId,
  REPLAY_ASSIGNOR,
  type ReplayGroupSnapshot,
} from '../../src/core/replay-group-marker.js'

const member = (over: Partial<ReplayGroupSnapshot['members'][number]> = {}) => ({
  memberId: 'm-1',
  clientId: 'recover',
  host: '10.0.0.4',
  topics: ['orders'],
  ...over,
})
const group = (over: Partial<ReplayGroupSnapshot> = {}): ReplayGroupSnapshot => ({
  state: 'Stable',
  protocolType: 'consumer',
  rebalanceProtocol: 'classic',
  assignor: REPLAY_ASSIGNOR,
  members: [member()],
  ...over,
})
const ours = (partition: number, offset: bigint) => ({ topic: 'orders', partition, offset, metadata: encodeReplayRange({ start: 0n, end: 100n }) })

test('--scale-out NAME is the group recover-replay.NAME; a NAME that already has the prefix keeps it once', () => {
  assert.is(replayGroupId('orders-fix'), 'recover-replay.orders-fix')
  assert.is(replayGroupId('recover-replay.orders-fix'), 'recover-replay.orders-fix')
  assert.is(replayGroupId('billing'), 'recover-replay.billing')
})

test("a range reads back from the metadata recover commits; metadata without recover's marker is not a range", () => {
  assert.equal(parseReplayRange(encodeReplayRange({ start: 5n, end: 9_007_199_254_740_993n })), { start: 5n, end: 9_007_199_254_740_993n })
  assert.is(parseReplayRange('{"v":1,"start":"0","end":"10"}'), undefined)
  assert.is(parseReplayRange('{"recover":"other","v":1,"start":"0","end":"10"}'), undefined)
  assert.is(parseReplayRange('{"recover":"replay","v":1,"start":"-1","end":"10"}'), undefined)
  assert.is(parseReplayRange('null'), undefined)
  assert.is(parseReplayRange('consumer-app'), undefined)
  assert.is(parseReplayRange(''), undefined)
  assert.is(parseReplayRange(null), undefined)
})

test("a fresh group, and one that recover's replays of the same topic use, are free to join", () => {
  assert.equal(foreignUseOf('orders', undefined, []), { members: [], offsets: [] })
  assert.equal(foreignUseOf('orders', group({ state: 'Empty', members: [] }), [{ topic: 'orders', partition: 0, offset: null, metadata: null }]), {
    members: [],
    offsets: [],
  })
  assert.equal(foreignUseOf('orders', group({ members: [member(), member({ memberId: 'm-2' })] }), [ours(0, 40n), ours(1, 100n)]), { members: [], offsets: [] })
})

test("offsets committed without recover's marker are foreign, whatever their topic", () => {
  const use = foreignUseOf('orders', undefined, [
    ours(0, 40n),
    { topic: 'orders', partition: 1, offset: 1690n, metadata: null },
    { topic: 'payments', partition: 0, offset: 3n, metadata: '{"v":1,"start":"0","end":"9"}' },
  ])
  assert.equal(use.offsets, [
    { topic: 'orders', partition: 1, offset: 1690n },
    { topic: 'payments', partition: 0, offset: 3n },
  ])
  assert.equal(use.members, [])
})

test("members are foreign when their assignor is not recover's, on KIP-848, in a non-consumer group, or replaying another topic", () => {
  const reasons = (g: ReplayGroupSnapshot) => foreignUseOf('orders', g, []).members.map((m) => m.reason)
  assert.equal(reasons(group({ assignor: 'RoundRobinAssigner' })), ['a consumer with assignor RoundRobinAssigner'])
  assert.equal(reasons(group({ rebalanceProtocol: 'consumer', assignor: 'uniform', state: 'Reconciling' })), ['a consumer on the KIP-848 group protocol'])
  assert.equal(reasons(group({ protocolType: 'connect', assignor: 'sessioned' })), ['a connect group member'])
  assert.equal(reasons(group({ members: [member({ topics: ['payments'] })] })), ['a recover replay of payments'])
})

test('a classic group mid-rebalance hides its assignor: its members are left to Kafka, which refuses a member with another assignor', () => {
  assert.equal(foreignUseOf('orders', group({ state: 'PreparingRebalance', assignor: '', members: [member({ topics: null })] }), []).members, [])
})

test.run()
