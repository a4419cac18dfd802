/**
 * The corrected transform for the fixture incident's bad deploy: orders service 1.6.0 wrote
 * every amount_cents multiplied by 100 (the incident `recover demo` seeds). Records that 1.6.0
 * wrote carry the header `app-version: 1.6.0`; their amount is divided by 100, every other
 * record passes unchanged. An amount 1.6.0 wrote that is not a multiple of 100 cannot be the
 * bug's output: it is thrown, so the record goes to quarantine instead of being guessed at.
 *
 *   recover replay --topic orders --from 2018-03-21T00:00 --to 2018-03-21T02:00 \
 *     --value-format avro --schema fixtures/schemas --transform plugins/fix-bad-deploy.ts \
 *     --sink kafka:orders.fixed
 */
import { defineTransform, headerText, type ReplayRecord } from 'recover/plugin-api'

const BAD_VERSION = '1.6.0'
const FACTOR = 100

interface Order {
  amount_cents: number | bigint
  [field: string]: unknown
}

export default defineTransform<Order | null>({
  name: 'fix-bad-deploy',
  version: '1.0.0',
  transform(record: ReplayRecord<Order | null>) {
    if (headerText(record, 'app-version') !== BAD_VERSION || record.value === null) return record
    const amount = record.value.amount_cents
    if (typeof amount === 'bigint') {
      if (amount % BigInt(FACTOR) !== 0n) throw new Error(`amount_cents ${amount} written by ${BAD_VERSION} is not a multiple of ${FACTOR}`)
      return { ...record, value: { ...record.value, amount_cents: amount / BigInt(FACTOR) } }
    }
    if (typeof amount !== 'number' || !Number.isInteger(amount)) throw new Error(`amount_cents is ${typeof amount}, expected a whole number`)
    if (amount % FACTOR !== 0) throw new Error(`amount_cents ${amount} written by ${BAD_VERSION} is not a multiple of ${FACTOR}`)
    return { ...record, value: { ...record.value, amount_cents: amount / FACTOR } }
  },
})
