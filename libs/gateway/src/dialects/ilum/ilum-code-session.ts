import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GroupLanguage, Runtime } from '@spindle/contracts';
import { ilumInvalid } from './ilum-errors.filter';

export interface CodeSessionProgram {
  readonly runtime: Runtime;
  readonly source: Buffer;
}

const SESSIONS: Partial<Record<GroupLanguage, { readonly runtime: Runtime; readonly file: string }>> = {
  PYTHON: { runtime: 'python', file: 'code_session.py' },
  NODE: { runtime: 'node', file: 'code-session.cjs' },
};
const read = new Map<string, Buffer>();

// The program a CODE group of this language runs its requests in (`code-session/`): a persistent
// interpreter per worker, since the warm runner loads a program once per process.
export function codeSessionProgram(language: GroupLanguage): CodeSessionProgram {
  const session = SESSIONS[language];
  if (session === undefined)
    throw ilumInvalid(
      `language: ${language} CODE groups cannot run code (no interpreter): use PYTHON or NODE`,
    );
  let source = read.get(session.file);
  if (source === undefined) {
    source = readFileSync(join(__dirname, 'code-session', session.file));
    read.set(session.file, source);
  }
  return { runtime: session.runtime, source };
}
