import * as fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const postgres = globalThis.__latchkeyPostgres;
  await Promise.all([globalThis.__latchkeyDevServer?.stop(), postgres?.server.stop()]);
  if (postgres) fs.rmSync(postgres.dir, { recursive: true, force: true });
}
