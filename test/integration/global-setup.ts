import { handTestServersToTestFiles } from '../../config/development';
import { stderrLog } from '../../devstack/cache';
import { startDevServer, type RunningDevServer } from '../../devstack/dev-server';
import { ensureTemporalCli } from '../../devstack/temporal-cli';
import { ensureTestServer } from '../../devstack/test-server';

declare global {
  var __latchkeyDevServer: RunningDevServer | undefined;
}

/**
 * Starts one real Temporal dev server (in memory, custom search attributes registered) for the whole
 * integration tier, and provisions the time-skipping test server. Failing here fails the run: the
 * integration tier is never skipped.
 */
export default async function globalSetup(): Promise<void> {
  const cli = await ensureTemporalCli();
  const testServer = await ensureTestServer();
  // No port given: one is chosen outside the ephemeral range (another one if it is taken).
  const server = await startDevServer(cli, { log: stderrLog });
  globalThis.__latchkeyDevServer = server;
  handTestServersToTestFiles({ devServerAddress: server.address, timeSkippingSource: JSON.stringify(testServer) });
  stderrLog(`integration tier: Temporal dev server at ${server.address} (${cli.kind})`);
}
