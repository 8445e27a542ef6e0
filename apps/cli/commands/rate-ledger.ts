import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ensureRateLedgerDatabase } from '../../../onepassword/sdk/rate-ledger-database';
import type { CommandIo } from '../io';

const HELP = `latchkey rate-ledger init: make the database where workers count their 1Password requests together

  rate-ledger init --admin-url URL --admin-password-file FILE --url-file FILE

  --admin-url             the PostgreSQL to use, as its administrator, without the password
                          (postgres://temporal@postgresql:5432/postgres)
  --admin-password-file   the administrator's password
  --url-file              where to write the URL the workers connect with (mode 0600); give it to them as
                          LATCHKEY_RATE_BUDGET_DATABASE_URL_FILE

  Makes the role and the database "latchkey" with a new random password, once: a URL file that exists is kept,
  so running this again is harmless. It prints one line: created or kept.`;

/** `latchkey rate-ledger init ...`: `argv` holds the words after `rate-ledger`. Resolves to the exit code. */
export async function runRateLedgerCommand(argv: string[], io: CommandIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb !== 'init') {
    const help = verb === '--help' || verb === '-h';
    io.err(help ? HELP : `rate-ledger: unknown verb "${verb ?? ''}"\n\n${HELP}`);
    return help ? 0 : 2;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        'admin-url': { type: 'string' },
        'admin-password-file': { type: 'string' },
        'url-file': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { 'admin-url': adminUrlText, 'admin-password-file': passwordFile, 'url-file': urlFile } = values;
  if (!adminUrlText || !passwordFile || !urlFile) {
    io.err(`rate-ledger init: --admin-url, --admin-password-file and --url-file are all needed\n\n${HELP}`);
    return 2;
  }
  let adminUrl: URL;
  try {
    adminUrl = new URL(adminUrlText);
  } catch {
    io.err('rate-ledger init: --admin-url must be a URL such as postgres://temporal@postgresql:5432/postgres');
    return 2;
  }
  if (adminUrl.password) {
    io.err('rate-ledger init: give the password in --admin-password-file, not in --admin-url');
    return 2;
  }
  adminUrl.password = fs.readFileSync(passwordFile, 'utf8').trim();
  const created = await ensureRateLedgerDatabase(adminUrl.toString(), urlFile);
  io.out(`${created ? 'created' : 'kept'} ${urlFile}`);
  return 0;
}
