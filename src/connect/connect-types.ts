/** GET / */
export interface ConnectRoot {
  version: string
  commit: string
  kafka_cluster_id: string
}

/** GET /connectors/NAME */
export interface ConnectorInfo {
  name: string
  config: Record<string, string>
  tasks: Array<{ connector: string; task: number }>
  type: 'sink' | 'source' | 'unknown'
}

export interface TaskStatus {
  id: number
  state: string
  worker_id: string
  trace?: string
}

/** GET /connectors/NAME/status */
export interface ConnectorStatus {
  name: string
  connector: { state: string; worker_id: string; trace?: string }
  tasks: TaskStatus[]
  type: 'sink' | 'source' | 'unknown'
}

/** One entry of GET/PATCH /connectors/NAME/offsets (KIP-875). Sink: partition {kafka_topic, kafka_partition}, offset {kafka_offset}. */
export interface ConnectOffsetEntry {
  partition: Record<string, unknown>
  /** null in a PATCH: remove this partition's offset. */
  offset: Record<string, unknown> | null
}

export interface ConnectOffsets {
  offsets: ConnectOffsetEntry[]
}
