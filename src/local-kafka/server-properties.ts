import { randomBytes } from 'node:crypto'

import { isKafka3 } from './versions.js'

export interface ServerPropertiesInput {
  version: string
  port: number
  controllerPort: number
  /** A SASL_PLAINTEXT listener with the LOCAL_SASL_USERS, for testing authenticated clients. */
  saslPort: number
  logDir: string
  /** Also a SASL_SSL listener (SCRAM-SHA-512, PEM keystore), an SSL listener that requires a client certificate (mtlsPort), and the StandardAuthorizer. */
  secure?: { port: number; mtlsPort: number; keystore: string; caCertificate: string; superUsers?: string[] }
  /** Also a SASL_PLAINTEXT listener for OAUTHBEARER, validating JWTs against a JWKS endpoint (LocalOAuthOptions). */
  oauth?: { port: number; jwksUrl: string; audience: string; issuer: string }
}

/**
 * Fixed users of the local broker's SASL listener. They only guard a loopback test broker;
 * the SCRAM ones are created at storage format time (StorageTool --add-scram).
 */
export const LOCAL_SASL_USERS = {
  plain: { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' },
  scram256: { mechanism: 'SCRAM-SHA-256', username: 'carol', password: 'carol-secret' },
  scram512: { mechanism: 'SCRAM-SHA-512', username: 'bob', password: 'bob-secret' },
} as const

/**
 * SCRAM-SHA-512 users of the secured broker's SASL_SSL listener (StartLocalKafkaOptions.secure).
 * `admin` is a super user; `reader` has only the ACLs a test grants; `stranger` has none.
 * The reader's password is distinctive so tests can grep every output for it.
 */
export const LOCAL_SECURE_USERS = {
  admin: { mechanism: 'SCRAM-SHA-512', username: 'admin', password: 'admin-secret' },
  reader: { mechanism: 'SCRAM-SHA-512', username: 'reader', password: 'Rdr-Pa55-Quokka-7319' },
  stranger: { mechanism: 'SCRAM-SHA-512', username: 'stranger', password: 'stranger-secret' },
} as const

export function scramFormatArgs(secure = false): string[] {
  const { scram256, scram512 } = LOCAL_SASL_USERS
  const users: Array<{ mechanism: string; username: string; password: string }> = [scram256, scram512]
  if (secure) users.push(...Object.values(LOCAL_SECURE_USERS))
  return users.flatMap((u) => ['--add-scram', `${u.mechanism}=[name=${u.username},password=${u.password}]`])
}

/** server.properties for one process that is both KRaft controller and broker, on loopback. */
export function renderServerProperties(input: ServerPropertiesInput): string {
  const secure = input.secure
  const lines = [
    '# Written by src/local-kafka for a single-node test broker; rewritten at every start.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${input.controllerPort}`,
    `listeners=${listeners(input, 'listeners')}`,
    `advertised.listeners=${listeners(input, 'advertised')}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT${secure ? ',SASL_SSL:SASL_SSL,SSL:SSL' : ''}${input.oauth ? ',OAUTH:SASL_PLAINTEXT' : ''}`,
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${LOCAL_SASL_USERS.plain.username}="${LOCAL_SASL_USERS.plain.password}";`,
    'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    `log.dirs=${input.logDir}`,
    'num.partitions=1',
    'auto.create.topics.enable=true',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'group.initial.rebalance.delay.ms=0',
    // The fixture incident and many tests write records stamped in March 2018. With the default
    // 7-day time retention, the check that runs every 5 minutes deletes them (rolling even the
    // active segment), moving the log start under a running test or demo. Keep everything.
    'log.retention.ms=-1',
    // After a hard kill, the controller refuses the broker's new registration until the old
    // session times out (default 9 s), which made every kill-and-restart test wait 10 s.
    'broker.session.timeout.ms=3000',
    'broker.heartbeat.interval.ms=500',
  ]
  if (secure) {
    lines.push(
      'listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.sasl_ssl.ssl.keystore.type=PEM',
      `listener.name.sasl_ssl.ssl.keystore.location=${secure.keystore}`,
      // The SSL listener knows its clients by their certificate (User:CN=…), as shops that use mTLS do.
      'listener.name.ssl.ssl.client.auth=required',
      'listener.name.ssl.ssl.keystore.type=PEM',
      `listener.name.ssl.ssl.keystore.location=${secure.keystore}`,
      'listener.name.ssl.ssl.truststore.type=PEM',
      `listener.name.ssl.ssl.truststore.location=${secure.caCertificate}`,
      // The PLAINTEXT and CONTROLLER listeners authenticate nobody (User:ANONYMOUS): the broker
      // talks to its own controller through them, and tests use them to set up ACLs.
      'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      `super.users=${['User:ANONYMOUS', `User:${LOCAL_SECURE_USERS.admin.username}`, ...(secure.superUsers ?? []).map((u) => `User:${u}`)].join(';')}`,
    )
  }
  if (input.oauth) {
    lines.push(
      'listener.name.oauth.sasl.enabled.mechanisms=OAUTHBEARER',
      'listener.name.oauth.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
      'listener.name.oauth.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
      `sasl.oauthbearer.jwks.endpoint.url=${input.oauth.jwksUrl}`,
      `sasl.oauthbearer.expected.audience=${input.oauth.audience}`,
      `sasl.oauthbearer.expected.issuer=${input.oauth.issuer}`,
    )
  }
  if (!isKafka3(input.version)) {
    lines.push('share.coordinator.state.topic.replication.factor=1', 'share.coordinator.state.topic.min.isr=1')
  }
  return `${lines.join('\n')}\n`
}

function listeners(input: ServerPropertiesInput, which: 'listeners' | 'advertised'): string {
  const list = [`PLAINTEXT://127.0.0.1:${input.port}`]
  if (which === 'listeners') list.push(`CONTROLLER://127.0.0.1:${input.controllerPort}`)
  list.push(`SASL_PLAINTEXT://127.0.0.1:${input.saslPort}`)
  if (input.secure) list.push(`SASL_SSL://127.0.0.1:${input.secure.port}`, `SSL://127.0.0.1:${input.secure.mtlsPort}`)
  if (input.oauth) list.push(`OAUTH://127.0.0.1:${input.oauth.port}`)
  return list.join(',')
}

/**
 * A cluster id as Kafka's Uuid.randomUuid() makes it: 16 random bytes, base64url without
 * padding, never starting with "-" (it would read as a command-line option). Saves a JVM
 * start for `StorageTool random-uuid`.
 */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}
