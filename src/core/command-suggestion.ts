import { nearestNames } from './nearest-name.js'

/**
 * What `recover <typo>` most likely meant, as the person types it (`quarantine list`, not
 * oclif's `quarantine:list`): the nearest command with the same topic first (`quarantine lst`
 * → `quarantine list`), else the nearest command or topic overall (`topcis` → `topics`).
 */
export function suggestCommands(typedId: string, commandIds: readonly string[], topics: readonly string[]): string[] {
  const typed = typedId.split(':')
  const spoken = (id: string) => id.split(':').join(' ')
  if (typed.length > 1) {
    const topic = typed.slice(0, -1).join(':')
    const siblings = commandIds.filter((id) => id.startsWith(`${topic}:`) && id.split(':').length === typed.length)
    const near = nearestNames(
      typed.at(-1)!,
      siblings.map((id) => id.split(':').at(-1)!),
    )
    if (near.length > 0) return near.map((name) => spoken(`${topic}:${name}`))
  }
  const names = [...new Set([...commandIds.filter((id) => !id.includes(':')), ...topics.filter((t) => !t.includes(':'))])]
  return nearestNames(typed[0]!, names).map(spoken)
}
