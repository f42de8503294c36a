import type { Kafka } from 'kafkajs';
import { kafkaRequests } from '../metrics/backbone-metrics';

// Counts the requests of every producer, consumer and admin a kafkajs client makes from now on,
// by API, in spindle_kafka_requests_total: the Kafka round trips the benchmark reports per submit
// and per job (bench/lib/costs.ts). kafkajs reports each request the broker answered as an
// instrumentation event of the client that sent it; the event costs an object per request, the
// count a counter increment. Every Kafka client of a process goes through here: the message bus's
// and Nest's command transport's (command-transport.ts).
export function countingRequests(kafka: Kafka): Kafka {
  const producer = kafka.producer.bind(kafka);
  const consumer = kafka.consumer.bind(kafka);
  const admin = kafka.admin.bind(kafka);
  kafka.producer = (config) => {
    const made = producer(config);
    made.on(made.events.REQUEST, count);
    return made;
  };
  kafka.consumer = (config) => {
    const made = consumer(config);
    made.on(made.events.REQUEST, count);
    return made;
  };
  kafka.admin = (config) => {
    const made = admin(config);
    made.on(made.events.REQUEST, count);
    return made;
  };
  return kafka;
}

function count(event: { payload: { apiName: string } }): void {
  kafkaRequests.inc({ api: event.payload.apiName });
}
