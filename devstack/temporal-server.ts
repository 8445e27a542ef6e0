import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { type DevelopmentSettings, loadDevelopmentSettings } from '../config/development';
import { cacheDir, isExecutable, type Log, runWithProgress, stderrLog, which, withLock } from './cache';

/**
 * The Temporal server of the production shape (not the dev server): the same version as the compose
 * file's images (docker-compose.yml), so that `npm run cluster` and a deployment run the same server.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
/**
 * The server's go.mod asks for Go 1.26.10; the Go module proxy serves this toolchain, which the go command
 * fetches like a module (about 76 MB, once). A GOTOOLCHAIN the user set is kept.
 */
export const GO_TOOLCHAIN = 'go1.27.3';

/** What a production-shaped cluster needs from Temporal's source: its server, its SQL tool and its schema. */
export interface TemporalServerBuild {
  version: string;
  /** `temporal-server`, as in the `temporalio/server` image. */
  server: string;
  /** `temporal-sql-tool`, as in the `temporalio/admin-tools` image. */
  sqlTool: string;
  /** `schema/postgresql/v12` of the same source: what the SQL tool applies. */
  postgresSchemaDir: string;
}

/**
 * Builds the Temporal server and its SQL tool from the Go module proxy into latchkey's cache, once
 * (several minutes on two cores; later calls return at once), with the schema files of the same version.
 */
export async function ensureTemporalServer(
  log: Log = stderrLog,
  settings: DevelopmentSettings = loadDevelopmentSettings(),
): Promise<TemporalServerBuild> {
  const dir = path.join(cacheDir(settings), 'temporal-server', TEMPORAL_SERVER_VERSION);
  const build: TemporalServerBuild = {
    version: TEMPORAL_SERVER_VERSION,
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    postgresSchemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
  };
  if (isComplete(build)) return build;

  const go = which('go', settings);
  if (!go) {
    throw new Error(
      `The production-shaped cluster needs the Temporal server ${TEMPORAL_SERVER_VERSION}, built with Go ` +
        '(https://go.dev/dl), which is not installed.',
    );
  }
  await withLock(path.join(cacheDir(settings), 'locks', 'temporal-server'), log, async () => {
    if (isComplete(build)) return;
    const env = {
      ...settings.childEnv,
      GOTOOLCHAIN: settings.childEnv.GOTOOLCHAIN || GO_TOOLCHAIN,
      CGO_ENABLED: '0',
      GOFLAGS: `${settings.childEnv.GOFLAGS ?? ''} -buildvcs=false`.trim(),
    };
    // Built aside and moved into place, so that a half-done build is never taken for a finished one.
    const staging = `${dir}.${process.pid}.partial`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    log(`building the Temporal server ${TEMPORAL_SERVER_VERSION} with go install into ${dir}`);
    log('the first build takes several minutes; later runs use the cached binaries');
    const at = (command: string) => `${TEMPORAL_SERVER_MODULE}/cmd/${command}@${TEMPORAL_SERVER_VERSION}`;
    await runWithProgress('go install temporal-server', go, ['install', at('server'), at('tools/sql')], {
      env: { ...env, GOBIN: staging },
      log,
    });
    fs.renameSync(path.join(staging, 'server'), path.join(staging, 'temporal-server'));
    fs.renameSync(path.join(staging, 'sql'), path.join(staging, 'temporal-sql-tool'));
    // The schema is data in the module's source, which `go install` has just put in the module cache.
    const { stdout } = await promisify(execFile)(
      go,
      ['mod', 'download', '-json', `${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`],
      { env },
    );
    const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
    fs.cpSync(path.join(moduleDir, 'schema', 'postgresql'), path.join(staging, 'schema', 'postgresql'), {
      recursive: true,
    });
    // The module cache is read-only; the copy must not be, or the cache could not be cleared.
    makeWritable(path.join(staging, 'schema'));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
  });
  if (!isComplete(build)) throw new Error(`the Temporal server build finished but ${dir} is incomplete`);
  return build;
}

function isComplete(build: TemporalServerBuild): boolean {
  return (
    isExecutable(build.server) &&
    isExecutable(build.sqlTool) &&
    fs.existsSync(path.join(build.postgresSchemaDir, 'temporal', 'versioned'))
  );
}

function makeWritable(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(file);
    else fs.chmodSync(file, 0o644);
  }
}
