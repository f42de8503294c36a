// A failure to start that the person starting Spindle can fix. Its message is one line naming
// the cause and the fix; mains print it as it is, without a stack.
export class StartupError extends Error {
  constructor(
    readonly reason: string,
    readonly fix: string,
  ) {
    super(`${reason}. Fix: ${fix}.`);
    this.name = 'StartupError';
  }
}
