import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DevelopmentSettings, loadDevelopmentSettings } from '../config/development';
import { cacheDir, isExecutable, type Log, runWithProgress, stderrLog, which, withLock } from './cache';
import { repoRoot } from '../config/config';

/**
 * Temporal's Java time-skipping test server, for tests that jump over hours and days.
 * - `existing`: `LATCHKEY_TEMPORAL_TEST_SERVER` names an executable that takes the port as its argument;
 * - `maven`: fetched from Maven Central into the cache, run through a wrapper script that `exec`s java;
 * - `sdk-download`: neither Maven nor Java here; the Temporal SDK downloads it (needs the internet).
 */
export type TestServerSource = { kind: 'existing' | 'maven'; path: string } | { kind: 'sdk-download' };

const POM = () => path.join(repoRoot(), 'tools', 'temporal-test-server', 'pom.xml');

function pomVersion(): string {
  const match = /<temporal\.test\.server\.version>([^<]+)</.exec(fs.readFileSync(POM(), 'utf8'));
  if (!match) throw new Error(`no temporal.test.server.version in ${POM()}`);
  return match[1];
}

export async function ensureTestServer(
  log: Log = stderrLog,
  settings: DevelopmentSettings = loadDevelopmentSettings(),
): Promise<TestServerSource> {
  const override = settings.temporalTestServer;
  if (override) {
    if (!isExecutable(override)) throw new Error(`LATCHKEY_TEMPORAL_TEST_SERVER=${override} is not an executable file`);
    return { kind: 'existing', path: override };
  }

  const version = pomVersion();
  const home = path.join(cacheDir(settings), 'temporal-test-server', version);
  const wrapper = path.join(home, 'temporal-test-server');
  if (isExecutable(wrapper)) return { kind: 'maven', path: wrapper };

  const mvn = which('mvn', settings);
  const java = which('java', settings);
  if (!mvn || !java) {
    if (!settings.allowSdkDownload) {
      throw new Error(
        'No Temporal test server: install a JDK (17+) and Maven so latchkey can fetch ' +
          'io.temporal:temporal-test-server from Maven Central, or set LATCHKEY_TEMPORAL_TEST_SERVER.',
      );
    }
    log('Maven or Java is missing: falling back to the Temporal SDK download of the test server (needs the internet).');
    return { kind: 'sdk-download' };
  }

  await withLock(path.join(cacheDir(settings), 'locks', 'temporal-test-server'), log, async () => {
    if (isExecutable(wrapper)) return;
    const lib = path.join(home, 'lib');
    log(`fetching io.temporal:temporal-test-server:${version} from Maven Central into ${lib}`);
    fs.mkdirSync(lib, { recursive: true });
    await runWithProgress(
      'mvn dependency:copy-dependencies',
      mvn,
      ['-q', '-B', '-f', POM(), 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`, '-DincludeScope=runtime'],
      { env: settings.childEnv, log },
    );
    // The SDK starts the test server as `<path> <port>`; the wrapper must exec java so that
    // stopping the wrapper stops the server.
    const script = `#!/bin/sh\nexec "${java}" -cp "${lib}/*" io.temporal.testserver.TestServer "$@"\n`;
    fs.writeFileSync(`${wrapper}.tmp`, script, { mode: 0o755 });
    fs.renameSync(`${wrapper}.tmp`, wrapper);
  });
  return { kind: 'maven', path: wrapper };
}
