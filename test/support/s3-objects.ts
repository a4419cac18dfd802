import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { DuckAppendTable } from '../../src/duckdb/append-table.js'
import { parseObjectName } from '../../src/s3/object-names.js'
import { ObjectStore } from '../../src/s3/object-store.js'
import { parseS3Location } from '../../src/s3/s3-location.js'
import { S3PROXY_ACCESS_KEY, S3PROXY_SECRET_KEY, type S3ProxyServer } from './s3proxy.js'

function client(server: S3ProxyServer): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: S3PROXY_ACCESS_KEY, secretAccessKey: S3PROXY_SECRET_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

export async function createBucket(server: S3ProxyServer, bucket: string): Promise<void> {
  const c = client(server)
  try {
    await c.send(new CreateBucketCommand({ Bucket: bucket }))
  } finally {
    c.destroy()
  }
}

export async function deleteObject(server: S3ProxyServer, bucket: string, key: string): Promise<void> {
  const c = client(server)
  try {
    await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
  } finally {
    c.destroy()
  }
}

/** Puts an object recover did not write (another replay's, a person's). */
export async function putObject(server: S3ProxyServer, bucket: string, key: string, text: string): Promise<void> {
  const c = client(server)
  try {
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }))
  } finally {
    c.destroy()
  }
}

/** Every key under a prefix, sorted. */
export async function listKeys(server: S3ProxyServer, bucket: string, prefix: string): Promise<string[]> {
  const c = client(server)
  const keys: string[] = []
  try {
    let token: string | undefined
    do {
      const page = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }))
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  } finally {
    c.destroy()
  }
  return keys.sort()
}

/** One record as an object holds it: where it came from, and its value's id field. */
export interface StoredRecord {
  object: string
  partition: number
  offset: string
  id: number | null
  /** A CSV object's cells of the record, by column (in the header's order). */
  cells?: Record<string, string | null>
}

/** Runs `work` with the environment of the test S3Proxy set (the ObjectStore reads the SDK's default chain). */
async function withEnv<T>(env: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  try {
    return await work()
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
  }
}

/**
 * Every object under s3://bucket/prefix/topic/, downloaded and read back: Parquet and CSV with
 * DuckDB, JSONL parsed line by line. CSV rows carry no provenance: the partition is the name's,
 * and the offsets are the name's first offset onwards, row by row (the test topics have no gaps).
 */
export async function readObjects(server: S3ProxyServer, bucket: string, prefix: string, topic: string): Promise<{ keys: string[]; records: StoredRecord[] }> {
  return withEnv(server.env, async () => {
    const store = new ObjectStore(parseS3Location(`s3://${bucket}/${prefix}`))
    const dir = mkdtempSync(join(tmpdir(), 'recover-s3-read-'))
    const db = await DuckAppendTable.open(':memory:')
    try {
      const keys = (await store.list(`${prefix}/${topic}/`))
        .map((o) => o.key)
        .filter((k) => !k.endsWith('/'))
        .sort()
      const records: StoredRecord[] = []
      for (const [i, key] of keys.entries()) {
        const file = join(dir, `${i}-${key.split('/').at(-1)}`)
        await store.download(key, file)
        if (key.endsWith('.parquet')) {
          for (const [id, p, o] of await db.rows(`SELECT id, source_partition, source_offset FROM read_parquet('${file}') ORDER BY source_offset`)) {
            records.push({ object: key, partition: Number(p), offset: String(o), id: id === null ? null : Number(id) })
          }
        } else if (key.endsWith('.csv')) {
          const name = parseObjectName(key)!
          const rows = await db.rows(`SELECT * FROM read_csv('${file}', header = true, all_varchar = true)`)
          const columns = (await db.rows(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_csv('${file}', header = true, all_varchar = true))`)).map((c) =>
            String(c[0]),
          )
          rows.forEach((row, i) => {
            const cells = Object.fromEntries(columns.map((c, j) => [c, row[j] === null ? null : String(row[j])]))
            records.push({
              object: key,
              partition: name.partition,
              offset: String(name.first + BigInt(i)),
              id: cells.id === null ? null : Number(cells.id),
              cells,
            })
          })
        } else {
          for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
            const e = JSON.parse(line) as { partition: number; offset: string; decoded?: { value?: { id?: number } } }
            records.push({ object: key, partition: e.partition, offset: String(e.offset), id: e.decoded?.value?.id ?? null })
          }
        }
      }
      return { keys, records }
    } finally {
      db.close()
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

/** The text of each object named, downloaded. */
export async function readObjectTexts(server: S3ProxyServer, bucket: string, prefix: string, keys: string[]): Promise<string[]> {
  return withEnv(server.env, async () => {
    const store = new ObjectStore(parseS3Location(`s3://${bucket}/${prefix}`))
    const dir = mkdtempSync(join(tmpdir(), 'recover-s3-text-'))
    try {
      const texts: string[] = []
      for (const [i, key] of keys.entries()) {
        const file = join(dir, String(i))
        await store.download(key, file)
        texts.push(readFileSync(file, 'utf8'))
      }
      return texts
    } finally {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

/** Records each object's name says it holds, checked against what it holds: first and last offset. */
export function namesMatchContents(keys: string[], records: StoredRecord[]): string[] {
  const problems: string[] = []
  for (const key of keys) {
    const name = parseObjectName(key)
    const inside = records.filter((r) => r.object === key).map((r) => BigInt(r.offset))
    if (!name || inside.length === 0) {
      problems.push(`${key}: ${name ? 'empty' : 'not a recover object name'}`)
      continue
    }
    const sorted = inside.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    const min = sorted[0]!
    const max = sorted.at(-1)!
    if (min !== name.first || max !== name.last) problems.push(`${key} holds ${min}-${max}`)
    if (records.some((r) => r.object === key && r.partition !== name.partition)) problems.push(`${key} holds another partition`)
  }
  return problems
}
