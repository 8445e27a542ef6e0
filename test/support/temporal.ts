import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadDevelopmentSettings } from '../../config/development';
import { chooseServerPort } from '../../devstack/ports';
import type { TestServerSource } from '../../devstack/test-server';

/**
 * Servers for the integration tier, started by `test/integration/global-setup.ts`. Every helper here
 * throws when its server is missing: integration tests fail loudly, they never skip.
 */
export function devServerAddress(): string {
  const address = loadDevelopmentSettings().testServers.devServerAddress;
  if (!address) {
    throw new Error(
      'No Temporal dev server for integration tests: run them through `npm test` or `npx jest --selectProjects integration`.',
    );
  }
  return address;
}

/** A client of the shared dev server (real persistence, visibility and custom search attributes). */
export async function connectToDevServer(): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: devServerAddress() });
  return { client: new Client({ connection }), connection };
}

/** A fresh time-skipping test server (Java, from Maven Central) for tests that jump over hours and days. */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const raw = loadDevelopmentSettings().testServers.timeSkippingSource;
  if (!raw) {
    throw new Error(
      'No Temporal test server provisioned: run integration tests through `npm test` or `npx jest --selectProjects integration`.',
    );
  }
  const source = JSON.parse(raw) as TestServerSource;
  return TestWorkflowEnvironment.createTimeSkipping({
    server: {
      // Outside the ephemeral range, like every server the tooling starts (docs/ci.md).
      port: await chooseServerPort(),
      executable:
        source.kind === 'sdk-download' ? { type: 'cached-download' } : { type: 'existing-path', path: source.path },
    },
  });
}
