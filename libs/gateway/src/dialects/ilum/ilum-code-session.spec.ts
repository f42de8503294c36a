import { existsSync } from 'node:fs';
import { DialectError } from '../json-errors.filter';
import { SCALA_CODE_SESSION_JAR, codeSessionProgram } from './ilum-code-session';

describe('the program a CODE group runs its requests in', () => {
  it('is the kept python or node session, run by its execute function', () => {
    expect(codeSessionProgram('PYTHON')).toMatchObject({
      runtime: 'python',
      extension: 'py',
      entrypoint: 'execute',
    });
    expect(codeSessionProgram('PYTHON').source.toString()).toContain('def execute(code, cursor=None)');
    expect(codeSessionProgram('NODE')).toMatchObject({
      runtime: 'node',
      extension: 'cjs',
      entrypoint: 'execute',
    });
  });

  it("is the JVM runner's Scala session jar for SCALA, once tools/jvm-runner/build.sh built it", () => {
    if (!existsSync(SCALA_CODE_SESSION_JAR)) return; // a machine without Java (npm start's case below)
    const program = codeSessionProgram('SCALA');
    expect(program).toMatchObject({
      runtime: 'jvm-runner',
      extension: 'jar',
      entrypoint: 'io.spindle.runner.scala.ScalaCodeSession',
    });
    expect(program.source.subarray(0, 2).toString()).toBe('PK'); // a zip
  });

  it('is a 409 saying how to build it when the Scala session is not built (a machine with only Node)', () => {
    let refusal: unknown;
    try {
      codeSessionProgram('SCALA', '/nonexistent/spindle-scala-session.jar');
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(DialectError);
    expect((refusal as DialectError).status).toBe(409);
    expect((refusal as DialectError).message).toBe(
      'language: SCALA CODE groups need the Scala interpreter, which is not built on this host: ' +
        'run bash tools/jvm-runner/build.sh (it needs java, javac and mvn)',
    );
  });
});
