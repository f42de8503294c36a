import { HttpStatus } from '@nestjs/common';
import { ProblemException } from '@spindle/platform';

// Read your writes: after a command, wait for its read model to reach the recorded position,
// then read the row. A projector that lags past the timeout gets a 503 that says so.
export async function readBack<T>(
  what: string,
  visible: Promise<boolean>,
  find: () => Promise<T | null>,
): Promise<T> {
  await awaitVisible(what, visible);
  const row = await find();
  if (!row) throw notFound(what);
  return row;
}

// For writes that answer with no body (deletes): answer only once the read model shows the change.
export async function awaitVisible(what: string, visible: Promise<boolean>): Promise<void> {
  if (!(await visible)) {
    throw new ProblemException(
      HttpStatus.SERVICE_UNAVAILABLE,
      'projection-lagging',
      'Recorded, not yet readable',
      `the change to ${what} is recorded but the read model has not caught up; retry the read`,
    );
  }
}

// `what` is "<kind> <name>" ("function sum"); the error names the kind as its field unless told
// otherwise, so a client sees which reference missed (the function of a submit, not the job).
export function notFound(what: string, field = what.split(' ')[0]!): ProblemException {
  const message = `${what} does not exist`;
  return new ProblemException(HttpStatus.NOT_FOUND, 'not-found', 'Not Found', message, [
    { field, rule: 'exists', message },
  ]);
}
