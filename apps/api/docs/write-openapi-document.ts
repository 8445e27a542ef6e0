import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { loadConfig } from '../../../config/config';
import { loadPolicyFile } from '../../../policy';
import { loadCommandSigningKey } from '../../../trust/command-keys';
import { CommandSigner } from '../../../trust/command-signer';
import { createApiApp } from '../app';
import { OpenApiDocument } from './openapi-document';

/**
 * Writes the API's OpenAPI document to a file without serving anything: the very app `npm start` runs
 * (controllers, DTOs, decorators), built on its embedded defaults with throwaway keys and a Temporal
 * connection that is never opened. `npm run build` generates the portal's typed client from this file,
 * so a document that drifts from what the portal calls fails the build.
 *
 *   node dist/apps/api/docs/write-openapi-document.js <out.json>
 */
async function main(out: string): Promise<void> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-openapi-'));
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  try {
    const config = loadConfig({ LATCHKEY_DATA_DIR: scratch, LATCHKEY_AUTH_MODE: 'local' });
    const app = await createApiApp({
      config,
      temporal: new Client({ connection }),
      policy: loadPolicyFile(config.policyFile),
      logger: pino({ level: 'silent' }),
      commandSigner: new CommandSigner(loadCommandSigningKey(config.commands.signingKeyFile, { create: true })),
    });
    const document = app.get(OpenApiDocument).get();
    // The document names the server it was served from; a file made at build time names none.
    delete document.servers;
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
    await app.close();
  } finally {
    await connection.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: write-openapi-document <out.json>\n');
  process.exit(2);
}
main(out).catch((err: unknown) => {
  process.stderr.write(`could not write the OpenAPI document: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
