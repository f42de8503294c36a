import { Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DataTopics, HEARTBEAT_MS, hostHeartbeatSchema } from '@spindle/contracts';
import type { HostHeartbeat } from '@spindle/contracts';
import type { DeliveredBatch, MessageBus, Subscription } from '../bus/message-bus';
import { NOTIFY_CHANNELS, PgNotifications } from '../database/pg-notifications';

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
      // How long a host that beats every second may be silent before it is taken for gone
      // (HOST_SILENCE_LIMIT_MS; see recordHeartbeats).
      readonly silenceLimitMs: number;
    },
  ) {
    this.logger = new Logger(spec.logger);
  }

  async onModuleInit(): Promise<void> {
    this.subscription = await subscribeToHeartbeats(
      this.bus,
      { groupId: this.spec.groupId, installation: this.installation, logger: this.logger },
      (latest) => recordHeartbeats(this.dataSource, this.spec.table, this.spec.silenceLimitMs, latest),
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
    {
      groupId: options.groupId,
      topics: [DataTopics.heartbeats],
      fromBeginning: false,
      commitOffsets: 'never',
    },
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
// last_seen, heard_until) at each host's newest heartbeat, in one statement. The host's own clock
// dates it, but never in the future, and a heartbeat of an older incarnation arriving late changes
// nothing: a late heartbeat must not revive a host.
// `heard_until` is when the host is taken for gone unless heard again: `silenceMs` after the beat
// for a host that beats every second, and as much longer as the heartbeat says its next one comes
// later (nextBeatMs: an agent with no work beats less often). Every reader asks
// `heard_until >= now()` (HOST_HEARD_SQL in the scheduler), so none needs to know how often a
// host beats.
// The same statement notifies NOTIFY_CHANNELS.hosts (payload: the table) when a host's capacity
// may have changed: it is new, restarted, changed its slots or stopping, or it was taken for gone
// and is heard again. The dispatcher waits for that rather than looking at the hosts on a timer.
async function recordHeartbeats(
  dataSource: DataSource,
  table: string,
  silenceMs: number,
  heartbeats: readonly HostHeartbeat[],
): Promise<void> {
  if (heartbeats.length === 0) return;
  await dataSource.query(
    `with incoming as (
       select h.*, least(h."sentAt", now()) as seen,
              make_interval(secs => ($4 + greatest(coalesce(h."nextBeatMs", ${HEARTBEAT_MS}) - ${HEARTBEAT_MS}, 0))
                                    ::double precision / 1000) as allowance
       from jsonb_to_recordset($1::jsonb) as h("hostId" text, incarnation text, hostname text,
         "agentPid" int, slots int, stopping boolean, "startedAt" timestamptz, "sentAt" timestamptz,
         "nextBeatMs" int)),
     known as (select id, incarnation, slots, stopping, heard_until from ${table}
               where id in (select "hostId" from incoming)),
     saved as (
       insert into ${table} as hosts
         (id, incarnation, hostname, agent_pid, slots, stopping, started_at, last_seen, heard_until)
       select h."hostId", h.incarnation, h.hostname, h."agentPid", h.slots, h.stopping, h."startedAt",
              h.seen, h.seen + h.allowance
       from incoming h
       on conflict (id) do update set
         incarnation = excluded.incarnation, hostname = excluded.hostname, agent_pid = excluded.agent_pid,
         slots = excluded.slots, stopping = excluded.stopping, started_at = excluded.started_at,
         last_seen = greatest(hosts.last_seen, excluded.last_seen),
         heard_until = case when excluded.last_seen >= hosts.last_seen then excluded.heard_until
                            else hosts.heard_until end
       where hosts.incarnation = excluded.incarnation or hosts.started_at <= excluded.started_at
       returning hosts.id, hosts.incarnation, hosts.slots, hosts.stopping, hosts.heard_until)
     select pg_notify($2, $3) from (
       select 1 from saved left join known k on k.id = saved.id
       where k.id is null or k.incarnation <> saved.incarnation or k.slots <> saved.slots
          or k.stopping <> saved.stopping
          or (k.heard_until < now() and saved.heard_until >= now())
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
