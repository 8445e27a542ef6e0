import { stderrLog } from './cache';
import { ensureChromium } from './chromium';
import { ensureTemporalCli } from './temporal-cli';
import { ensureTestServer } from './test-server';

/**
 * Makes sure everything the tests need exists before they run: the CLI's dev server, the Java
 * time-skipping test server (both cached outside the work tree) and Chromium for the UI test.
 * A second run does nothing.
 */
async function main(): Promise<void> {
  const cli = await ensureTemporalCli();
  stderrLog(`Temporal CLI: ${cli.kind === 'sdk-download' ? 'SDK download at first use' : cli.path}`);
  const testServer = await ensureTestServer();
  stderrLog(
    `Temporal test server: ${testServer.kind === 'sdk-download' ? 'SDK download at first use' : testServer.path}`,
  );
  stderrLog(`Chromium: ${await ensureChromium(stderrLog)}`);
}

main().catch((error: unknown) => {
  stderrLog(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
