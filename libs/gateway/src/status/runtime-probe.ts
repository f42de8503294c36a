import { execFile } from 'node:child_process';

export interface RuntimeVersions {
  readonly node: string;
  readonly python: string | null;
  readonly java: string | null;
}

// Which runtimes this host can start, by asking them. A missing one is null, not an error.
export async function probeRuntimes(): Promise<RuntimeVersions> {
  const [python, java] = await Promise.all([
    versionOf('python3', ['--version'], /Python (\S+)/),
    versionOf('java', ['-version'], /version "([^"]+)"/),
  ]);
  return { node: process.versions.node, python, java };
}

function versionOf(command: string, args: string[], pattern: RegExp): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 5_000 }, (error, stdout, stderr) => {
      if (error) return resolve(null);
      // java prints its version on stderr, python on stdout.
      resolve(pattern.exec(`${stdout}\n${stderr}`)?.[1] ?? null);
    });
  });
}
