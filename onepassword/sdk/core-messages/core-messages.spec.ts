import { readFileSync } from 'node:fs';
import { CORE_MESSAGES_FILE, type CoreMessages, observeCoreErrors, readCoreMessages } from './core-messages';

/**
 * The committed fixture is what the installed SDK produces. After an upgrade of @1password/sdk this
 * fails until `npm run onepassword:messages` is run and every new message is classified.
 */
describe('core-messages.json', () => {
  const committed = JSON.parse(readFileSync(CORE_MESSAGES_FILE, 'utf8')) as CoreMessages;

  it('lists the messages and typed errors of the installed SDK', () => {
    const { observed, ...listed } = committed;
    expect(observed.length).toBeGreaterThan(0);
    expect(readCoreMessages()).toEqual(listed);
  });

  it('records what the installed core answers to each failure of sign-in', async () => {
    expect(await observeCoreErrors()).toEqual(committed.observed);
  });

  it("holds the messages the issue tracker saw falling through to 'unavailable'", () => {
    for (const message of [
      "item couldn't be found",
      'you are not authenticated',
      'bad credentials, please retry: ',
      'bad service account token, please rotate it: ',
      'bad input passed by the user: ',
      'session seems expired even after retrying',
      'cannot share items with files. Consult your 1Password admin to review account policies.',
    ]) {
      expect(committed.messages).toContain(message);
    }
  });
});
