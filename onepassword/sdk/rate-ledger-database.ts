import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';

/** The role and the database the workers' shared rate ledger lives in (PostgresRateLedger makes its tables). */
export const RATE_LEDGER_DATABASE = 'latchkey';

/**
 * Makes latchkey's own role and database on a deployment's PostgreSQL, once, as its administrator (`adminUrl`),
 * and writes the URL the workers connect with to `urlFile` (mode 0600: it holds the role's new password), at the
 * host and port of `adminUrl`. A URL file that exists is kept, and so is everything behind it: answers whether it
 * made one. `npm run cluster` and the compose deployment's `rate-ledger` service both run this.
 */
export async function ensureRateLedgerDatabase(adminUrl: string, urlFile: string): Promise<boolean> {
  if (fs.existsSync(urlFile)) return false;
  const admin = parseIntoClientConfig(adminUrl);
  const password = randomBytes(24).toString('base64url');
  const client = new Client(admin);
  await client.connect();
  try {
    const name = escapeIdentifier(RATE_LEDGER_DATABASE);
    const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [RATE_LEDGER_DATABASE]);
    await client.query(`${role.rowCount ? 'ALTER' : 'CREATE'} ROLE ${name} LOGIN PASSWORD ${escapeLiteral(password)}`);
    const database = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [RATE_LEDGER_DATABASE]);
    if (!database.rowCount) await client.query(`CREATE DATABASE ${name} OWNER ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(`postgres://${admin.host ?? 'localhost'}:${admin.port ?? 5432}/${RATE_LEDGER_DATABASE}`);
  url.username = RATE_LEDGER_DATABASE;
  url.password = password;
  fs.writeFileSync(urlFile, `${url.toString()}\n`, { mode: 0o600 });
  return true;
}
