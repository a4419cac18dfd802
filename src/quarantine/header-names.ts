/** Our context header names. Kafka Connect's `__connect.errors.*` names are written as well. */
export const QUARANTINE_HEADERS = {
  stage: 'recover.error.stage',
  class: 'recover.error.class',
  kind: 'recover.error.kind',
  side: 'recover.error.side',
  message: 'recover.error.message',
  stack: 'recover.error.stack',
  topic: 'recover.source.topic',
  partition: 'recover.source.partition',
  offset: 'recover.source.offset',
  /** Kafka's id of the cluster the record was read from: a redrive or retry refuses another cluster. */
  clusterId: 'recover.source.cluster-id',
  /** The bootstrap servers it was reached through, for people (the id is what is checked). */
  bootstrap: 'recover.source.bootstrap',
  transformName: 'recover.transform.name',
  transformVersion: 'recover.transform.version',
  quarantinedAt: 'recover.quarantined-at',
} as const
