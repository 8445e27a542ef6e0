import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DevelopmentSettings, loadDevelopmentSettings } from '../config/development';
import { cacheDir, isExecutable, type Log, runWithProgress, stderrLog, which, withLock } from './cache';

/** The newest Temporal CLI tag whose go.mod has no replace directive, so `go install` accepts it. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

/**
 * Where the Temporal CLI (the real dev server: `temporal server start-dev`) comes from:
 * - `existing`: `LATCHKEY_TEMPORAL_CLI` names a binary the user already has;
 * - `go-install`: built from the Go module proxy into the cache, once;
 * - `sdk-download`: no Go here; the Temporal SDK downloads the CLI itself (needs the internet).
 */
export type TemporalCliSource = { kind: 'existing' | 'go-install'; path: string } | { kind: 'sdk-download' };

export async function ensureTemporalCli(
  log: Log = stderrLog,
  settings: DevelopmentSettings = loadDevelopmentSettings(),
): Promise<TemporalCliSource> {
  const override = settings.temporalCli;
  if (override) {
    if (!isExecutable(override)) {
      throw new Error(`LATCHKEY_TEMPORAL_CLI=${override} is not an executable file`);
    }
    return { kind: 'existing', path: override };
  }

  const binDir = path.join(cacheDir(settings), 'temporal-cli', TEMPORAL_CLI_VERSION);
  const binary = path.join(binDir, 'temporal');
  if (isExecutable(binary)) return { kind: 'go-install', path: binary };

  const go = which('go', settings);
  if (!go) {
    if (!settings.allowSdkDownload) {
      throw new Error(
        'No Temporal CLI: install Go (https://go.dev/dl) so latchkey can build it with `go install`, ' +
          'or set LATCHKEY_TEMPORAL_CLI to an existing `temporal` binary.',
      );
    }
    log('Go is not installed: falling back to the Temporal SDK download of the dev server (needs the internet).');
    return { kind: 'sdk-download' };
  }

  await withLock(path.join(cacheDir(settings), 'locks', 'temporal-cli'), log, async () => {
    if (isExecutable(binary)) return;
    log(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install into ${binDir}`);
    log('the first build takes several minutes; later runs use the cached binary');
    fs.mkdirSync(binDir, { recursive: true });
    await runWithProgress('go install temporal', go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: {
        ...settings.childEnv,
        GOBIN: binDir,
        CGO_ENABLED: '0',
        GOFLAGS: `${settings.childEnv.GOFLAGS ?? ''} -buildvcs=false`.trim(),
      },
      log,
    });
  });
  if (!isExecutable(binary)) throw new Error(`go install finished but ${binary} is missing`);
  return { kind: 'go-install', path: binary };
}
