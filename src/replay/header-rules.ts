import { compileHeaderRules, noHeaderRules, type Header, type HeaderRules } from '../core/header-rules.js'
import type { PreparedBatch } from './prepare-batch.js'

/** A replay's header rules, compiled: a record's new headers from its headers and source position. */
export type HeaderStage = (headers: readonly Header[], source: { topic: string; partition: number; offset: bigint }) => Header[]

/** The stage for --drop-header/--keep-header/--set-header and provenance, or undefined when they change nothing. */
export function headerStage(rules: HeaderRules | undefined): HeaderStage | undefined {
  return rules === undefined || noHeaderRules(rules) ? undefined : compileHeaderRules(rules)
}

/**
 * The last stage before the sink, for every source and sink: each output gets its new header
 * list. The input record's own list is never changed (the quarantine keeps the original), and
 * keys, values and header values stay the buffers they were.
 */
export function applyHeaderStage(prepared: PreparedBatch, stage: HeaderStage | undefined): void {
  if (!stage) return
  for (const output of prepared.outputs) output.headers = stage(output.headers, output.source)
}
