import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * The dev server keeps its state in one SQLite file and never migrates it: a file made by an older
 * Temporal server fails on its first write under a newer one (server 1.32 needs tables 1.28 lacked), and
 * the worker then dies at start. So the server version that made the file is kept beside it, and a start
 * under another version stops at once with what to do, instead of failing later and obscurely.
 */
export class DevDatabaseMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DevDatabaseMismatch';
  }
}

/** `temporal --version`: `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)`. */
export function temporalServerVersion(cliPath: string): { cli: string; server: string } | undefined {
  let text: string;
  try {
    text = execFileSync(cliPath, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  } catch {
    return undefined;
  }
  const match = /version (\S+) \(Server (\S+?),/.exec(text);
  return match ? { cli: match[1], server: match[2] } : undefined;
}

const markerOf = (dbFile: string) => `${dbFile}.server-version`;

/**
 * Files made before the marker existed: by server 1.28 (CLI 1.5.1, go install) or by 1.32 (CLI 1.9.1).
 * Only 1.32's schema has this table, named in the file's schema pages at its start.
 */
const SERVER_1_32_TABLE = 'current_chasm_executions';

/** For a file without a marker: `current` if the file's schema is of the same generation, else what made it. */
function madeBeforeMarkers(dbFile: string, current: string): string {
  const fd = fs.openSync(dbFile, 'r');
  let hasNewTables: boolean;
  try {
    const head = Buffer.alloc(1024 * 1024);
    const read = fs.readSync(fd, head, 0, head.length, 0);
    hasNewTables = head.subarray(0, read).includes(SERVER_1_32_TABLE);
  } finally {
    fs.closeSync(fd);
  }
  const currentIsNew = atLeast(current, '1.32.0');
  if (hasNewTables === currentIsNew) return current;
  return hasNewTables ? '1.32.0' : 'older than 1.32.0';
}

function atLeast(version: string, floor: string): boolean {
  const parts = (text: string) => text.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const [a, b] = [parts(version), parts(floor)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/** Refuses a database file made by another server version; records the version of a new or matching one. */
export function checkDevDatabase(dbFile: string, version: { cli: string; server: string }): void {
  if (!fs.existsSync(dbFile)) {
    fs.writeFileSync(markerOf(dbFile), `${version.server}\n`);
    return;
  }
  const madeBy = fs.existsSync(markerOf(dbFile))
    ? fs.readFileSync(markerOf(dbFile), 'utf8').trim()
    : madeBeforeMarkers(dbFile, version.server);
  if (madeBy === version.server) {
    fs.writeFileSync(markerOf(dbFile), `${version.server}\n`);
    return;
  }
  throw new DevDatabaseMismatch(
    `${dbFile} was made by Temporal server ${madeBy}, and the Temporal CLI ${version.cli} (server ${version.server}) ` +
      'cannot use it: the dev server does not migrate its database. Move it aside to start afresh ' +
      `(mv ${dbFile} ${dbFile}.server-${madeBy.replace(/\s+/g, '-')}: the requests recorded in it are left there, ` +
      'the local 1Password and the demo database keep their state), or run the CLI that made it with ' +
      'LATCHKEY_TEMPORAL_CLI=/path/to/temporal.',
  );
}
