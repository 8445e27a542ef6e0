import { stderrLog } from './cache';
import { CHROMIUM, ensureDebianProgram, JQ, PSQL } from './debian-programs';
import { ensureTemporalCli } from './temporal-cli';
import { ensureTestServer } from './test-server';

/**
 * Makes sure everything the tests need exists before they run: the CLI's dev server, the Java
 * time-skipping test server (both cached outside the work tree), Chromium for the UI test, and psql and jq
 * for the README's database walkthrough.
 * A second run does nothing.
 */
async function main(): Promise<void> {
  const cli = await ensureTemporalCli();
  stderrLog(`Temporal CLI: ${cli.kind === 'sdk-download' ? 'SDK download at first use' : cli.path}`);
  const testServer = await ensureTestServer();
  stderrLog(
    `Temporal test server: ${testServer.kind === 'sdk-download' ? 'SDK download at first use' : testServer.path}`,
  );
  for (const program of [CHROMIUM, PSQL, JQ]) {
    stderrLog(`${program.command}: ${await ensureDebianProgram(program, stderrLog)}`);
  }
}

main().catch((error: unknown) => {
  stderrLog(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
