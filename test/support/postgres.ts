import { loadDevelopmentSettings } from '../../config/development';

/**
 * The admin URL of the PostgreSQL that `test/integration/global-setup.ts` started (a superuser of a cluster
 * made for this run). Throws when there is none: integration tests fail loudly, they never skip.
 */
export function testPostgresAdminUrl(): string {
  const url = loadDevelopmentSettings().testServers.postgresAdminUrl;
  if (!url) {
    throw new Error(
      'No PostgreSQL for integration tests: run them through `npm test` or `npx jest --selectProjects integration`.',
    );
  }
  return url;
}
