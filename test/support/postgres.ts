import { Client } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
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

/** One statement as the admin (in `database`, else the admin URL's), then the connection is closed. */
export async function adminQuery(
  text: string,
  params: unknown[] = [],
  database?: string,
): Promise<Array<Record<string, unknown>>> {
  const config = parseIntoClientConfig(testPostgresAdminUrl());
  const client = new Client({ ...config, database: database ?? config.database });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** An open session as `role`, as a person keeps psql open; ended under it is the point of some tests. */
export async function loginAs(role: string, password: string): Promise<Client> {
  const client = new Client({ ...parseIntoClientConfig(testPostgresAdminUrl()), user: role, password });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Logs in as `role` and runs `query`: 'accepted', or the SQLSTATE of the refusal (28P01: password refused). */
export async function tryLogin(role: string, password: string, query = 'select 1'): Promise<string> {
  const client = new Client({ ...parseIntoClientConfig(testPostgresAdminUrl()), user: role, password });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(query);
    return 'accepted';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a session is still open: its next query says so. */
export function sessionAlive(client: Client): Promise<boolean> {
  return client.query('select 1').then(
    () => true,
    () => false,
  );
}
