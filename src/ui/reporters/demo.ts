import type { DemoStepRun } from '../../demo/run-demo.js'
import type { LocalKafkaEvent } from '../../local-kafka/events.js'
import { describeLocalKafkaEvent } from '../../local-kafka/describe-event.js'
import type { Presenter, ProgressRecord } from '../reporter.js'

/**
 * What `recover demo` reports while it works. The steps themselves print on stdout (their
 * header, then the command's own output), so for people a step adds no progress line; under
 * --json, where that output is not shown, each step is a record.
 */
export type DemoEvent =
  | { type: 'local-kafka'; event: LocalKafkaEvent }
  | { type: 'seeding'; topic: string; group: string; count: number; brokers: string }
  | { type: 'step-start'; id: string; title: string; index: number; total: number; command: string }
  | { type: 'step-end'; run: Omit<DemoStepRun, 'result'>; index: number; total: number }

export const demoPresenter: Presenter<DemoEvent, undefined> = {
  initial: () => undefined,
  reduce: () => undefined,
  lines(event) {
    if (event.type === 'local-kafka') return [`  ${describeLocalKafkaEvent(event.event)}`]
    if (event.type === 'seeding')
      return [`Seeding the fixture incident: ${event.count} orders into ${event.topic} on ${event.brokers}, group ${event.group} committed at the end…`]
    return []
  },
  record(event): ProgressRecord {
    switch (event.type) {
      case 'local-kafka':
        return { type: 'local-kafka', event: event.event.type, message: describeLocalKafkaEvent(event.event) }
      case 'seeding':
        return { type: 'seeding', topic: event.topic, group: event.group, count: event.count, brokers: event.brokers }
      case 'step-start':
        return { type: 'step-start', id: event.id, title: event.title, step: event.index + 1, of: event.total, command: event.command }
      case 'step-end':
        return { type: 'step-end', id: event.run.id, step: event.index + 1, of: event.total, exitCode: event.run.exitCode, ms: event.run.ms }
    }
  },
}
