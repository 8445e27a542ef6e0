import { writeFileSync } from 'node:fs';
import { CORE_MESSAGES_FILE, extractCoreMessages } from './core-messages';

/**
 * `npm run onepassword:messages`: writes what the installed SDK core can answer to the committed
 * fixture. Run it after upgrading @1password/sdk, then classify whatever the test says is new.
 */
async function main(): Promise<void> {
  const extracted = await extractCoreMessages();
  writeFileSync(CORE_MESSAGES_FILE, `${JSON.stringify(extracted, null, 2)}\n`);
  process.stdout.write(
    `${CORE_MESSAGES_FILE}: ${extracted.messages.length} messages and ${extracted.observed.length} observed failures of @1password/sdk ${extracted.sdk.version}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
