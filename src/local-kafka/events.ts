/** Progress of getting a local broker up, for a renderer to show (or ignore). */
export type LocalKafkaEvent =
  | { type: 'jars-downloading'; version: string; libDir: string }
  | { type: 'jars-ready'; version: string; libDir: string; downloaded: boolean; ms: number }
  | { type: 'storage-formatted'; version: string; dataDir: string; ms: number }
  | { type: 'broker-starting'; version: string; pid: number; brokers: string }
  | { type: 'broker-ready'; version: string; pid: number; brokers: string; ms: number }
  | { type: 'broker-stopping'; pid: number }
  | { type: 'broker-stopped'; pid: number; ms: number; forced: boolean }

export type OnLocalKafkaEvent = (event: LocalKafkaEvent) => void
