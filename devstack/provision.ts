import { stderrLog } from './cache';
import { ensureTemporalCli } from './temporal-cli';
import { ensureTestServer } from './test-server';

/**
 * Makes sure both Temporal servers exist before tests run: the CLI's dev server and the Java
 * time-skipping test server. Cached outside the work tree; a second run does nothing.
 */
async function main(): Promise<void> {
  const cli = await ensureTemporalCli();
  stderrLog(`Temporal CLI: ${cli.kind === 'sdk-download' ? 'SDK download at first use' : cli.path}`);
  const testServer = await ensureTestServer();
  stderrLog(
    `Temporal test server: ${testServer.kind === 'sdk-download' ? 'SDK download at first use' : testServer.path}`,
  );
}

main().catch((error: unknown) => {
  stderrLog(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
