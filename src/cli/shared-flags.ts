import { Flags } from './oclif.js'

/** Flags every command that talks to Kafka accepts. */
export const connectionFlags = {
  brokers: Flags.string({
    summary:
      'Kafka bootstrap servers, host:port[,host:port]. Default: --cluster, else RECOVER_BROKERS, else the default cluster of recover.config.json, else localhost:9092.',
    helpGroup: 'CONNECTION',
  }),
  'client-config': Flags.string({
    summary: 'Kafka client .properties file (as for kafka-consumer-groups.sh --command-config): SSL (PEM, PKCS12 or JKS stores), SASL PLAIN/SCRAM/OAUTHBEARER.',
    helpGroup: 'CONNECTION',
  }),
  cluster: Flags.string({
    summary: 'A cluster named in recover.config.json.',
    helpGroup: 'CONNECTION',
  }),
  config: Flags.string({
    summary: 'Project config file. Default: ./recover.config.json when present.',
    helpGroup: 'CONNECTION',
  }),
}

export const verboseFlag = {
  verbose: Flags.boolean({
    summary: 'Show stack traces and Kafka client debug lines on stderr.',
    helpGroup: 'GLOBAL',
    default: false,
  }),
}

/**
 * The keys' own schema, for commands with --key-format: keys never take --message or a
 * --schema JSON Schema file (those are the values'). A Confluent-framed key names its own
 * schema id, so with --registry neither is needed.
 */
export const keySchemaFlags = {
  'key-message': Flags.string({
    summary:
      "Protobuf keys: the message the keys are (shop.OrderKey or OrderKey), from the --schema .proto files; default: the only message of --schema, or the registry's message indexes.",
    helpGroup: 'DECODING',
  }),
  'key-schema': Flags.string({
    summary: "JSON Schema keys: the keys' JSON Schema file (.json), the reader schema of keys as --schema FILE.json is of values.",
    helpGroup: 'DECODING',
  }),
}
