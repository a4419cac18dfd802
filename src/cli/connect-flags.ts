import { Flags } from './oclif.js'

/** Flags of the commands that talk to Kafka Connect's REST API. */
export const connectFlags = {
  'connect-url': Flags.string({
    summary:
      'Kafka Connect REST URL, e.g. http://connect:8083 (user:password@ for basic auth). Default: RECOVER_CONNECT_URL, else connectUrl of the cluster in recover.config.json.',
    helpGroup: 'CONNECT',
  }),
  'connect-ca': Flags.string({
    summary: 'PEM file of the CA that signed the Connect worker certificate (https). Default: RECOVER_CONNECT_CA, else connectCaFile of the cluster.',
    helpGroup: 'CONNECT',
  }),
}
