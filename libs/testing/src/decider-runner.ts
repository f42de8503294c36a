import type { CommandError, NewEvent, SpindleEvent } from '@spindle/contracts';

interface PureDecider<TCommand, TState> {
  readonly initialState: TState;
  evolve(state: TState, event: SpindleEvent): TState;
  decide(command: TCommand, state: TState): readonly NewEvent[] | CommandError;
}

// Given/When/Then for a pure decider: runs the commands one after the other, folding what each
// decided into the state (a refused one changes nothing). `last` is what the last command got:
// its events, or its refusal.
export function runDecider<TCommand, TState>(
  decider: PureDecider<TCommand, TState>,
  commands: readonly TCommand[],
): { state: TState; last: readonly NewEvent[] | CommandError } {
  let state = decider.initialState;
  let last: readonly NewEvent[] | CommandError = [];
  let position = 0;
  for (const command of commands) {
    last = decider.decide(command, state);
    if (!Array.isArray(last)) continue;
    for (const event of last as readonly NewEvent[])
      state = decider.evolve(state, {
        id: '',
        streamId: 'stream',
        occurredAt: '2026-11-22T10:00:00.000Z',
        correlationId: 'c',
        causationId: null,
        ...event,
        streamPosition: ++position,
      });
  }
  return { state, last };
}
