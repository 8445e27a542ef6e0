import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { handTestServersToTestFiles } from '../../config/development';
import { stderrLog } from '../../devstack/cache';
import { startDevServer, type RunningDevServer } from '../../devstack/dev-server';
import { startPostgres, type RunningPostgres } from '../../devstack/postgres';
import { ensureTemporalCli } from '../../devstack/temporal-cli';
import { ensureTestServer } from '../../devstack/test-server';

declare global {
  var __latchkeyDevServer: RunningDevServer | undefined;
  var __latchkeyPostgres: { server: RunningPostgres; dir: string } | undefined;
}

/**
 * Starts one real Temporal dev server (in memory, custom search attributes registered) and one real
 * PostgreSQL (a new cluster in a temporary directory) for the whole integration tier, and provisions the
 * time-skipping test server. Failing here fails the run: the integration tier is never skipped.
 */
export default async function globalSetup(): Promise<void> {
  const cli = await ensureTemporalCli();
  const testServer = await ensureTestServer();
  // No ports given: they are chosen outside the ephemeral range (others if they are taken).
  const [server, postgres] = await Promise.all([startDevServer(cli, { log: stderrLog }), startTestPostgres()]);
  globalThis.__latchkeyDevServer = server;
  handTestServersToTestFiles({
    devServerAddress: server.address,
    timeSkippingSource: JSON.stringify(testServer),
    postgresAdminUrl: postgres.adminUrl,
  });
  stderrLog(`integration tier: Temporal dev server at ${server.address} (${cli.kind})`);
  stderrLog(`integration tier: PostgreSQL at ${postgres.host}:${postgres.port}`);
}

async function startTestPostgres(): Promise<RunningPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-postgres-'));
  const server = await startPostgres({ dir, log: stderrLog });
  globalThis.__latchkeyPostgres = { server, dir };
  return server;
}
