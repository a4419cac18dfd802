/**
 * A filter: keeps only the records whose `app-version` header is one of
 * RECOVER_APP_VERSIONS (comma-separated; default 1.6.0, the fixture's bad deploy) and drops
 * the rest (returned as null, counted as dropped in the replay summary). Useful to replay only
 * what one release wrote, whatever the time range.
 *
 *   RECOVER_APP_VERSIONS=1.6.0 recover replay --topic orders --value-format bytes \
 *     --transform plugins/filter-app-version.ts --sink file:written-by-1.6.0.jsonl
 */
import { defineTransform, headerText } from 'recover/plugin-api'

const keep = new Set(
  (process.env.RECOVER_APP_VERSIONS ?? '1.6.0')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== ''),
)

export default defineTransform({
  name: 'filter-app-version',
  version: '1.0.0',
  transform(record) {
    const version = headerText(record, 'app-version')
    return typeof version === 'string' && keep.has(version) ? record : null
  },
})
