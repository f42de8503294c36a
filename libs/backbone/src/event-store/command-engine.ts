import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { commandFailed } from '@spindle/contracts';
import type {
  CommandError,
  CommandResult,
  SpindleEvent,
  MessageMetadata,
  NewEvent,
} from '@spindle/contracts';
import { GroupCommit } from './group-commit';
import type { GroupCommitOptions } from './group-commit';
import { settleKeys } from './idempotency';
import type { Idempotency } from './idempotency';
import { ConcurrencyError } from './postgres-event-store';
import type { PostgresEventStore, StreamAppend } from './postgres-event-store';
import type { StatementParts } from '../database/statement-parts';

// The pure core of an event-sourced entity: fold its events into state, decide on a command.
export interface Decider<TCommand, TState> {
  readonly initialState: TState;
  readonly evolve: (state: TState, event: SpindleEvent) => TState;
  readonly decide: (command: TCommand, state: TState) => readonly NewEvent[] | CommandError;
}

// One kind of entity: how it decides, where its events go, which stream a command is about.
export interface CommandEntity<TCommand, TState> {
  readonly decider: Decider<TCommand, TState>;
  readonly topic: string;
  streamIdOf(command: TCommand): string;
}

// One command bound to the entity that decides it (see `commandFor`).
export interface BoundCommand {
  readonly streamId: string;
  readonly topic: string;
  readonly decider: Decider<unknown, unknown>;
  readonly command: unknown;
  readonly metadata: MessageMetadata;
  readonly now: Date; // when it happened: the events' occurredAt
  readonly idempotency?: Idempotency;
  // The stream position the command was based on (a client's If-Match): refused when it moved.
  readonly expectedPosition?: number;
}

export function commandFor<TCommand, TState>(
  entity: CommandEntity<TCommand, TState>,
  command: TCommand,
  metadata: MessageMetadata,
  now = new Date(),
  idempotency?: Idempotency,
  expectedPosition?: number,
): BoundCommand {
  return {
    streamId: entity.streamIdOf(command),
    topic: entity.topic,
    // The decider only ever sees commands and states of its own entity: the engine keeps them apart.
    decider: entity.decider as unknown as Decider<unknown, unknown>,
    command,
    metadata,
    now,
    ...(idempotency ? { idempotency } : {}),
    ...(expectedPosition !== undefined ? { expectedPosition } : {}),
  };
}

export function isCommandError(value: unknown): value is CommandError {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}

// The caller's open transaction, which the engine runs in as it is (see CommandEngine.attempt).
function inTransaction(within: EntityManager | undefined): within is EntityManager {
  return within?.queryRunner?.isTransactionActive === true;
}

// A lost optimistic race: a stream moved or was claimed meanwhile, a twin committed the same key,
// two transactions deadlocked or could not be serialized. Deciding again on fresh state may succeed.
export function isLostRace(e: unknown): boolean {
  if (e instanceof ConcurrencyError) return true;
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return code === '23505' || code === '40P01' || code === '40001';
}

// Reads and checks a batch needs beyond its commands' own streams (the function a submit names, say),
// made once the idempotency keys are settled. `streamsOf` are read in the same query as the
// commands' streams; `prepare` answers each command with the command to decide (bound again) or its
// answer. A lock it takes for the rest of the batch (a transaction-level advisory lock) needs the
// batch's transaction begun first (`transaction`).
export interface Preparation {
  readonly streamsOf?: (batch: readonly BoundCommand[]) => readonly string[];
  readonly prepare: (
    manager: EntityManager,
    batch: readonly BoundCommand[],
    streams: ReadonlyMap<string, readonly SpindleEvent[]>,
    transaction: BatchTransaction,
  ) => Promise<readonly (BoundCommand | CommandResult)[]>;
}

// A batch's transaction, begun only when something needs it (CommandEngine.attempt).
export interface BatchTransaction {
  readonly active: boolean;
  begin(): Promise<void>;
}

const ALREADY_BEGUN: BatchTransaction = { active: true, begin: async () => undefined };

// The writes of the owner's state beside its streams, for the events about to be appended: the
// first statement rides in the append's own (one round trip less; StatementParts), `after` writes
// the rest once the append is done.
export interface StateWrites {
  readonly riding?: StatementParts;
  readonly after?: (manager: EntityManager) => Promise<void>;
}

export interface CommandEngineOptions {
  // State the owner keeps beside its streams (a dispatch queue, say), written in the same
  // transaction as the append, so it can never disagree with them.
  readonly stateOf?: (appended: readonly SpindleEvent[]) => StateWrites;
  // After a transaction of the engine's own that appended something, with what it appended (wake
  // the outbox relay, and whoever reacts to such events). In a transaction the caller gave, the
  // caller commits, and calls it.
  readonly onCommitted?: (appended: readonly SpindleEvent[]) => void;
}

const MAX_BATCH = 500;
// A whole batch is decided again on fresh streams this often, then one command per transaction.
const BATCH_ATTEMPTS = 3;
const SINGLE_ATTEMPTS = 5;

// Decide and append: every stream of a batch read in one query and folded, each command decided in
// order on its stream's state (later commands on a stream see what earlier ones decided), then all
// events, outbox rows, idempotency answers and the owner's own state (`stateOf`) written with one
// statement per table, in one transaction: the caller's, or one the engine opens. Each command gets
// the answer it would have had alone. A lost race decides the batch again on fresh state, and at
// last one command per transaction, so a lost race is refused by its stream, never applied twice;
// in the caller's transaction the caller does that (it fails, and the caller runs it again).
export class CommandEngine {
  private readonly logger = new Logger('command-engine');

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly options: CommandEngineOptions = {},
  ) {}

  async run(
    command: BoundCommand,
    within?: EntityManager,
    preparation?: Preparation,
  ): Promise<CommandResult> {
    return this.single(command, within, preparation);
  }

  // In order; the first command that fails with an error (not a refusal) stops the rest.
  async runMany(
    batch: readonly BoundCommand[],
    within?: EntityManager,
    preparation?: Preparation,
  ): Promise<CommandResult[]> {
    const results: CommandResult[] = [];
    for (let i = 0; i < batch.length; i += MAX_BATCH) {
      const chunk = batch.slice(i, i + MAX_BATCH);
      if (inTransaction(within)) {
        results.push(...(await this.attempt(chunk, within, preparation)));
        continue;
      }
      const decided = await this.batch(chunk, within, preparation);
      if (decided) results.push(...decided);
      else for (const command of chunk) results.push(await this.single(command, within, preparation));
    }
    return results;
  }

  // Group commit for commands that come one at a time (a submit per request): while one batch
  // commits the next gathers. A batch that fails with an error falls back to one command per
  // transaction, each answered on its own.
  groupCommit(
    options: GroupCommitOptions & { readonly preparation?: Preparation } = {},
  ): GroupCommit<BoundCommand, CommandResult> {
    const { preparation } = options;
    return new GroupCommit(async (batch) => {
      const decided = await this.batch(batch, undefined, preparation);
      if (decided) return decided.map((value) => ({ status: 'fulfilled', value }));
      const settled: PromiseSettledResult<CommandResult>[] = [];
      for (const command of batch) {
        try {
          settled.push({ status: 'fulfilled', value: await this.single(command, undefined, preparation) });
        } catch (reason) {
          settled.push({ status: 'rejected', reason });
        }
      }
      return settled;
    }, options);
  }

  // The batch's answers, or undefined when it should go one command at a time.
  private async batch(
    batch: readonly BoundCommand[],
    within: EntityManager | undefined,
    preparation: Preparation | undefined,
  ): Promise<CommandResult[] | undefined> {
    if (batch.length === 0) return [];
    if (batch.length === 1) return undefined;
    for (let attempt = 1; attempt <= BATCH_ATTEMPTS; attempt++) {
      try {
        return await this.attempt(batch, within, preparation);
      } catch (e) {
        if (isLostRace(e)) continue;
        this.logger.warn(`a batch of ${batch.length} commands failed (${messageOf(e)}); one by one`);
        return undefined;
      }
    }
    return undefined;
  }

  private async single(
    command: BoundCommand,
    within: EntityManager | undefined,
    preparation: Preparation | undefined,
  ): Promise<CommandResult> {
    if (inTransaction(within)) return (await this.attempt([command], within, preparation))[0]!;
    for (let attempt = 1; ; attempt++) {
      try {
        const [result] = await this.attempt([command], within, preparation);
        return result!;
      } catch (e) {
        if (isLostRace(e) && attempt < SINGLE_ATTEMPTS) continue;
        if (e instanceof ConcurrencyError) return commandFailed('conflict', e.message);
        throw e;
      }
    }
  }

  // Straight in the caller's transaction, or on a connection of the engine's own. In the caller's
  // a lost race (or any error) fails the caller's transaction, and the caller decides it all again
  // on fresh state (an EventConsumerRunner retries its batch): a savepoint around each attempt, so
  // the engine could retry inside, cost two statements per call to save a rare retry.
  // On its own, a batch begins a transaction only when it needs one: for a lock held to the end
  // (its idempotency keys', one the preparation takes), or before writes that are more than the
  // append's one statement (the owner's state `after` it). Its reads need none: in READ COMMITTED each statement reads what
  // was committed when it began, in a transaction or not, and the append fails the whole batch when
  // a stream moved after it was read (a lost race, decided again). A batch of plain submits is then
  // its reads and one statement, without START and COMMIT: two round trips less.
  private async attempt(
    batch: readonly BoundCommand[],
    within: EntityManager | undefined,
    preparation: Preparation | undefined,
  ): Promise<CommandResult[]> {
    if (inTransaction(within))
      return (await this.decideAll(within, batch, preparation, ALREADY_BEGUN)).results;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const transaction: BatchTransaction = {
      get active() {
        return runner.isTransactionActive;
      },
      begin: async () => {
        if (!runner.isTransactionActive) await runner.startTransaction();
      },
    };
    try {
      const { results, appended } = await this.decideAll(runner.manager, batch, preparation, transaction);
      if (runner.isTransactionActive) await runner.commitTransaction();
      if (appended.length > 0) this.options.onCommitted?.(appended);
      return results;
    } catch (e) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw e;
    } finally {
      await runner.release();
    }
  }

  private async decideAll(
    manager: EntityManager,
    batch: readonly BoundCommand[],
    preparation: Preparation | undefined,
    transaction: BatchTransaction,
  ): Promise<{ results: CommandResult[]; appended: readonly SpindleEvent[] }> {
    // Twins with the same key, in other batches or processes, queue on the key's lock until the
    // first has committed its answer (settleKeys). That lock is the transaction's: without one it
    // would be let go at the end of its statement, and a twin could read no answer, then the
    // first's committed effect, and refuse what the first did ("already exists").
    if (batch.some((c) => c.idempotency !== undefined)) await transaction.begin();
    const {
      answers: results,
      firstWithKey,
      toDecide,
    } = await settleKeys(
      manager,
      this.store,
      batch.map((c) => c.idempotency),
    );
    const wanted = toDecide.map((i) => batch[i]!);
    const histories = await this.store.readStreams(manager, [
      ...new Set([...wanted.map((c) => c.streamId), ...(preparation?.streamsOf?.(wanted) ?? [])]),
    ]);
    const prepared = preparation
      ? await preparation.prepare(manager, wanted, histories, transaction)
      : wanted;

    const streams = new Map<string, { state: unknown; position: number }>();
    const appends: StreamAppend[] = [];
    const appendOf: number[] = [];
    toDecide.forEach((i, k) => {
      const bound = prepared[k]!;
      if ('ok' in bound) {
        results[i] = bound;
        return;
      }
      const { streamId, decider } = bound;
      let stream = streams.get(streamId);
      if (!stream) {
        const history = histories.get(streamId) ?? [];
        stream = {
          state: history.reduce(decider.evolve, decider.initialState),
          position: history.at(-1)?.streamPosition ?? 0,
        };
        streams.set(streamId, stream);
      }
      if (bound.expectedPosition !== undefined && bound.expectedPosition !== stream.position) {
        results[i] = commandFailed(
          'precondition_failed',
          `it is at version ${stream.position}, not ${bound.expectedPosition}: read it again and retry`,
          'If-Match',
        );
        return;
      }
      const decision = decider.decide(bound.command, stream.state);
      if (isCommandError(decision)) {
        results[i] = { ok: false, error: decision };
        return;
      }
      results[i] = { ok: true, streamId, streamPosition: stream.position };
      if (decision.length === 0) return;
      appendOf.push(i);
      appends.push({
        streamId,
        expectedPosition: stream.position,
        events: decision,
        topic: bound.topic,
        metadata: bound.metadata,
        occurredAt: bound.now,
      });
      // What the next command on this stream decides on.
      for (const event of decision)
        stream.state = decider.evolve(stream.state, provisional(bound, event, ++stream.position));
    });

    let state: StateWrites | undefined;
    const appended = await this.store.appendMany(manager, appends, async (events) => {
      state = this.options.stateOf?.(events);
      // More than this one statement to commit together (idempotency answers began it above).
      if (state?.after) await transaction.begin();
      return state?.riding;
    });
    const flat = appended.flat();
    await state?.after?.(manager);
    const remembered: { key: string; fingerprint: string; result: unknown }[] = [];
    appended.forEach((events, k) => {
      const i = appendOf[k]!;
      const result: CommandResult = {
        ok: true,
        streamId: appends[k]!.streamId,
        streamPosition: events.at(-1)!.streamPosition,
        events,
      };
      results[i] = result;
      const { idempotency } = batch[i]!;
      if (idempotency) remembered.push({ ...idempotency, result });
    });
    await this.store.rememberIdempotentMany(manager, remembered);
    // Twins within the batch get the answer of the first with their key.
    return {
      results: batch.map(
        (command, i) =>
          results[i] ??
          results[firstWithKey.get(command.idempotency!.key)!] ??
          commandFailed('invalid', 'not decided'),
      ),
      appended: flat,
    };
  }
}

// An event decided but not yet appended, as the decider's evolve reads it.
function provisional(bound: BoundCommand, event: NewEvent, streamPosition: number): SpindleEvent {
  return {
    id: '',
    ...event,
    streamId: bound.streamId,
    streamPosition,
    occurredAt: bound.now.toISOString(),
    correlationId: bound.metadata.correlationId,
    causationId: bound.metadata.causationId,
  };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
