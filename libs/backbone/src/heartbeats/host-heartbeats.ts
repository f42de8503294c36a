import { Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DataTopics, hostHeartbeatSchema } from '@spindle/contracts';
import type { HostHeartbeat } from '@spindle/contracts';
import type { DeliveredBatch, MessageBus, Subscription } from '../bus/message-bus';
import { NOTIFY_CHANNELS, PgNotifications } from '../database/pg-notifications';

// A host heard again after this long is notified as changed, where its table's reader names no
// silence limit of its own (agents beat every second).
const HOST_GAP_MS = 2_000;

// Calls `changed` whenever a host of `table` may have more or less room than before (see
// recordHeartbeats), in any process; resolves once listening. Returns the function that stops it.
export function onHostsChanged(
  dataSource: DataSource,
  table: string,
  changed: () => void,
): Promise<() => void> {
  return PgNotifications.of(dataSource).on(NOTIFY_CHANNELS.hosts, (payload) => {
    if (payload === table || payload === '') changed();
  });
}

// A table of worker hosts kept at each host's newest heartbeat of this installation, from the
// module's start to its shutdown: the scheduler's (`hosts`: the dispatcher watches them) and the
// projector's (`hosts_v1`: the workers API shows them). Each names its group, table and logger.
export abstract class HostsTableListener implements OnModuleInit, BeforeApplicationShutdown {
  private subscription: Subscription | undefined;
  private readonly logger: Logger;

  protected constructor(
    private readonly dataSource: DataSource,
    private readonly bus: MessageBus,
    private readonly installation: string,
    private readonly spec: {
      readonly groupId: string;
      readonly table: string;
      readonly logger: string;
      // After how long a table's reader takes a host for gone (HOST_SILENCE_LIMIT_MS): a host
      // heard again after that long is notified as changed. Absent: HOST_GAP_MS.
      readonly silenceLimitMs?: number;
    },
  ) {
    this.logger = new Logger(spec.logger);
  }

  async onModuleInit(): Promise<void> {
    this.subscription = await subscribeToHeartbeats(
      this.bus,
      { groupId: this.spec.groupId, installation: this.installation, logger: this.logger },
      (latest) =>
        recordHeartbeats(this.dataSource, this.spec.table, this.spec.silenceLimitMs ?? HOST_GAP_MS, latest),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }
}

// Worker hosts' heartbeats, as the services that keep a table of hosts read them. Heartbeats are
// not events: only each host's newest matters, so they skip the event store, and a group starts at
// the end of the topic. Nor does it commit offsets: a restarted reader that resumed at its last
// offset would only record beats older than the next one, which every live host sends within a
// second of the join. A commit was a broker round trip every second for each reader while
// Spindle was idle (the agents beat every second): 2 of an idle node topology's 16 requests/s.
function subscribeToHeartbeats(
  bus: MessageBus,
  options: { readonly groupId: string; readonly installation: string; readonly logger: Logger },
  record: (latest: readonly HostHeartbeat[]) => Promise<void>,
): Promise<Subscription> {
  return bus.subscribe(
    { groupId: options.groupId, topics: [DataTopics.heartbeats], fromBeginning: false, commitOffsets: false },
    (batch) => record(latestOf(batch, options)),
  );
}

// Each host's newest heartbeat of a batch, of this installation only (two Spindles on one broker
// never adopt each other's hosts); malformed ones are logged and skipped.
function latestOf(
  batch: DeliveredBatch,
  options: { readonly installation: string; readonly logger: Logger },
): HostHeartbeat[] {
  const latest = new Map<string, HostHeartbeat>();
  for (const message of batch.messages) {
    const parsed = hostHeartbeatSchema.safeParse(safeJson(message.value));
    if (!parsed.success)
      options.logger.warn(
        `ignored a malformed heartbeat at ${batch.topic}/${batch.partition}@${message.offset}`,
      );
    else if (parsed.data.installation === options.installation) latest.set(parsed.data.hostId, parsed.data);
  }
  return [...latest.values()];
}

// Keeps a hosts table (id, incarnation, hostname, agent_pid, slots, stopping, started_at,
// last_seen) at each host's newest heartbeat, in one statement. The host's own clock dates it,
// but never in the future, and a heartbeat of an older incarnation arriving late changes nothing:
// a late heartbeat must not revive a host. The same statement notifies NOTIFY_CHANNELS.hosts
// (payload: the table) when a host's capacity may have changed: it is new, restarted, changed its
// slots or stopping, or it was silent for `silenceMs` and is heard again: by the same rule as the
// readers' live hosts (`last_seen >= now() - silence`), so a host whose clock lags the database's
// by less than that does not notify at every beat. The dispatcher waits for that rather than
// looking at the hosts on a timer.
async function recordHeartbeats(
  dataSource: DataSource,
  table: string,
  silenceMs: number,
  heartbeats: readonly HostHeartbeat[],
): Promise<void> {
  if (heartbeats.length === 0) return;
  await dataSource.query(
    `with incoming as (
       select * from jsonb_to_recordset($1::jsonb) as h("hostId" text, incarnation text, hostname text,
         "agentPid" int, slots int, stopping boolean, "startedAt" timestamptz, "sentAt" timestamptz)),
     known as (select id, incarnation, slots, stopping, last_seen from ${table}
               where id in (select "hostId" from incoming)),
     saved as (
       insert into ${table} as hosts (id, incarnation, hostname, agent_pid, slots, stopping, started_at, last_seen)
       select h."hostId", h.incarnation, h.hostname, h."agentPid", h.slots, h.stopping, h."startedAt",
              least(h."sentAt", now())
       from incoming h
       on conflict (id) do update set
         incarnation = excluded.incarnation, hostname = excluded.hostname, agent_pid = excluded.agent_pid,
         slots = excluded.slots, stopping = excluded.stopping, started_at = excluded.started_at,
         last_seen = greatest(hosts.last_seen, excluded.last_seen)
       where hosts.incarnation = excluded.incarnation or hosts.started_at <= excluded.started_at
       returning hosts.id, hosts.incarnation, hosts.slots, hosts.stopping, hosts.last_seen)
     select pg_notify($2, $3) from (
       select 1 from saved left join known k on k.id = saved.id
       where k.id is null or k.incarnation <> saved.incarnation or k.slots <> saved.slots
          or k.stopping <> saved.stopping
          or (k.last_seen < now() - make_interval(secs => $4::double precision / 1000)
              and saved.last_seen >= now() - make_interval(secs => $4::double precision / 1000))
       limit 1) changed`,
    [JSON.stringify(heartbeats), NOTIFY_CHANNELS.hosts, table, silenceMs],
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
