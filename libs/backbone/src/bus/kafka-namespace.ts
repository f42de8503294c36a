// KAFKA_NAMESPACE keeps installations that share a broker apart: staging beside production, or
// test suites side by side. Without it two installations read each other's events, and a consumer
// group of the same name (`projector.jobs.v1`, `spindle-scheduler`) hands one installation's
// partitions to the other's processes. With a namespace `ns`, Spindle's own topics (every name
// beginning `spindle.`: events, data, commands and their replies, dead letters) become `ns.<name>`
// and every consumer group `ns.<group>`. Topics a client names (Mist's async request and event
// topics) are the client's and keep their names; only the group that reads them is namespaced.
//
// Everything above the bus speaks the names of @spindle/contracts; only the Kafka clients see the
// namespaced ones (KafkaMessageBus, the command transport).
const OWN_TOPIC_PREFIX = 'spindle.';

export class KafkaNamespace {
  private readonly prefix: string;

  constructor(namespace: string) {
    this.prefix = namespace === '' ? '' : `${namespace}.`;
  }

  // The name on the broker of a topic Spindle's code names.
  topic(name: string): string {
    return this.prefix !== '' && name.startsWith(OWN_TOPIC_PREFIX) ? this.prefix + name : name;
  }

  // The name Spindle's code knows a topic on the broker by: the inverse of topic().
  logicalTopic(brokerName: string): string {
    return this.prefix !== '' && brokerName.startsWith(this.prefix + OWN_TOPIC_PREFIX)
      ? brokerName.slice(this.prefix.length)
      : brokerName;
  }

  group(groupId: string): string {
    return this.prefix + groupId;
  }
}
