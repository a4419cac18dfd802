import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseObjectName, topicPrefix } from './object-names.js'
import { ObjectStore, translateS3Error } from './object-store.js'
import type { S3Location } from './s3-location.js'

/** A replay's objects of one topic, downloaded into a temp folder (remove() deletes it). */
export interface DownloadedObjects {
  files: string[]
  remove: () => void
}

/**
 * Downloads every object a replay into `location` wrote for `topic` (named
 * `TOPIC/p=N/FIRST-LAST.<format>`; other keys under the prefix are left alone), for DuckDB to
 * read as local files: recover does not load DuckDB's httpfs extension, which would be fetched
 * from the network at run time.
 */
export async function downloadTopicObjects(location: S3Location, topic: string): Promise<DownloadedObjects> {
  const store = new ObjectStore(location)
  const dir = mkdtempSync(join(tmpdir(), 'recover-s3-audit-'))
  const remove = () => rmSync(dir, { recursive: true, force: true })
  try {
    const keys = (await store.list(topicPrefix(location.prefix, topic))).map((o) => o.key).filter((k) => parseObjectName(k)?.extension === location.format)
    const files: string[] = []
    for (const [i, key] of keys.entries()) {
      const file = join(dir, `${i}.${location.format}`)
      await store.download(key, file)
      files.push(file)
    }
    return { files, remove }
  } catch (error) {
    remove()
    throw translateS3Error(error, location.display, 'reading the objects')
  } finally {
    store.close()
  }
}
