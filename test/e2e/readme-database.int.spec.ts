import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../config/config';
import { DevStack } from '../support/dev-stack';

/**
 * The README's database walkthrough, run as written against `npm start`: the block is read from the README
 * and run by bash, only the API's address changed to this stack's own. Each answer it prints is checked.
 */
const README = fs.readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');

function walkthrough(): string {
  const block = /### A database login, end to end[\s\S]*?```sh\n([\s\S]*?)```/.exec(README);
  if (!block) throw new Error('README.md has no "A database login, end to end" block');
  return block[1];
}

describe("the README's database walkthrough", () => {
  const stack = new DevStack();

  beforeAll(async () => {
    await stack.configure();
    await stack.start();
  }, 180_000);

  afterAll(() => stack.dispose(), 60_000);

  it('works as written: a login of her own refused after it is given back, and a shared one rotated', () => {
    const script = walkthrough().replaceAll('localhost:3000', stack.apiUrl.replace('http://', ''));
    const run = spawnSync('bash', ['-c', script], {
      cwd: repoRoot(),
      env: stack.env,
      encoding: 'utf8',
      timeout: 150_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;

    // 1. reporting-login: granted, used, an open session ended and the login refused once given back.
    expect(output).toContain('"mode":"database-role"');
    expect(output).toMatch(/"databaseRole":"lk_[0-9a-z]+"/);
    expect(output.match(/^\s+3$/gm)).toHaveLength(2); // select count(*) from orders, once per part
    expect(output).toContain('{"status":"REVOKED","endedBy":"login-dropped"}');
    expect(output).toContain('terminating connection due to administrator command');
    expect(output).toMatch(/password authentication failed for user "lk_[0-9a-z]+"/);

    // 2. reporting-db: approved, used, and what she saw refused after the rotation.
    expect(output).toContain('{"status":"ACTIVE"}');
    expect(output).toContain('{"status":"REVOKED","endedBy":"secret-rotated"}');
    expect(output).toContain('password authentication failed for user "reporting"');

    // Nothing a person saw leaks into the stack's own output.
    expect(stack.output.join('')).not.toMatch(/PGPASSWORD|share\.local-1password\.invalid\/s\//);
  }, 180_000);
});
