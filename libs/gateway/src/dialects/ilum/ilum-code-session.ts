import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { GroupLanguage, Runtime } from '@spindle/contracts';
import { ilumInvalid } from './ilum-errors.filter';

interface CodeSession {
  readonly runtime: Runtime;
  readonly extension: 'py' | 'cjs' | 'jar';
  // A function of the program (python, node) or a class with run(args) (SCALA's jar).
  readonly entrypoint: string;
  readonly path: string;
}

export interface CodeSessionProgram extends Omit<CodeSession, 'path'> {
  readonly source: Buffer;
}

// The Scala session is Java, built with the JVM runner (tools/jvm-runner/build.sh) into runtimes/
// at the top of the repository; the others are kept as they are in `code-session/`.
export const SCALA_CODE_SESSION_JAR = resolve(
  __dirname,
  '../../../../../runtimes/jvm/scala/spindle-scala-session.jar',
);
const SESSIONS: Record<GroupLanguage, CodeSession> = {
  PYTHON: {
    runtime: 'python',
    extension: 'py',
    entrypoint: 'execute',
    path: join(__dirname, 'code-session', 'code_session.py'),
  },
  NODE: {
    runtime: 'node',
    extension: 'cjs',
    entrypoint: 'execute',
    path: join(__dirname, 'code-session', 'code-session.cjs'),
  },
  SCALA: {
    runtime: 'jvm-runner',
    extension: 'jar',
    entrypoint: 'io.spindle.runner.scala.ScalaCodeSession',
    path: SCALA_CODE_SESSION_JAR,
  },
};
const read = new Map<string, Buffer>();

// The program a CODE group of this language runs its requests in: a persistent interpreter per
// worker, since the warm runner loads a program once per process. SCALA's needs Java and the
// runner's build: without it a SCALA CODE group's request is a 409 saying how to build it.
export function codeSessionProgram(
  language: GroupLanguage,
  scalaSessionJar = SCALA_CODE_SESSION_JAR,
): CodeSessionProgram {
  const session = language === 'SCALA' ? { ...SESSIONS.SCALA, path: scalaSessionJar } : SESSIONS[language];
  let source = read.get(session.path);
  if (source === undefined) {
    if (language === 'SCALA' && !existsSync(session.path))
      throw ilumInvalid(
        'language: SCALA CODE groups need the Scala interpreter, which is not built on this host: ' +
          'run bash tools/jvm-runner/build.sh (it needs java, javac and mvn)',
      );
    source = readFileSync(session.path);
    read.set(session.path, source);
  }
  const { path: _path, ...program } = session;
  return { ...program, source };
}
