/** Registers a Protobuf schema (with its references) under a subject through the Confluent API; returns its id and version. */
export async function registerProtobufSchema(
  registryUrl: string,
  subject: string,
  schema: string,
  references: Array<{ name: string; subject: string; version: number }> = [],
): Promise<{ id: number; version: number }> {
  const base = `${registryUrl}/subjects/${encodeURIComponent(subject)}`
  const res = await fetch(`${base}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType: 'PROTOBUF', schema, references }),
  })
  const body = (await res.json()) as { id?: number; message?: string }
  if (!res.ok || typeof body.id !== 'number') throw new Error(`Registering ${subject} failed: HTTP ${res.status} ${JSON.stringify(body)}`)
  const versions = (await (await fetch(`${base}/versions`)).json()) as number[]
  return { id: body.id, version: Math.max(...versions) }
}
