/**
 * Values fetched once per key: concurrent loads of the same key share one fetch, a failed fetch
 * is forgotten (the next load tries again), a fetched value is kept.
 */
export interface LoadOnce<K, V> {
  cached(key: K): V | undefined
  load(key: K): Promise<V>
}

export function loadOnce<K, V>(fetch: (key: K) => Promise<V>): LoadOnce<K, V> {
  const values = new Map<K, V>()
  const loading = new Map<K, Promise<V>>()
  return {
    cached: (key) => values.get(key),
    load(key) {
      const known = values.get(key)
      if (known !== undefined) return Promise.resolve(known)
      let pending = loading.get(key)
      if (!pending) {
        pending = fetch(key).then(
          (value) => {
            values.set(key, value)
            loading.delete(key)
            return value
          },
          (error: unknown) => {
            loading.delete(key)
            throw error
          },
        )
        loading.set(key, pending)
      }
      return pending
    },
  }
}
