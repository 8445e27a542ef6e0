import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCliSignInSettings } from '../../../config/cli';
import { type LatchkeyConfig, loadConfig, repoRoot } from '../../../config/config';
import { TokenVerifier } from '../../api/identity/token-verifier';
import { readSession } from '../session';
import { runLoginCommand, runLogoutCommand } from './login';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

const PEOPLE_FILE = path.join(repoRoot(), 'config', 'people.yaml');

describe('latchkey login, local auth mode', () => {
  let dir: string;
  let config: LatchkeyConfig;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-login-'));
    config = loadConfig({
      LATCHKEY_DATA_DIR: dir,
      LATCHKEY_DIRECTORY_FILE: PEOPLE_FILE,
      LATCHKEY_CLI_SESSION_FILE: path.join(dir, 'home', 'latchkey', 'session.json'),
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const login = (argv: string[]) => {
    const { out, err, io } = capture();
    return runLoginCommand(argv, io, { config, signIn: loadCliSignInSettings({}) }).then((code) => ({
      code,
      out,
      err,
    }));
  };

  it('signs in as a person of the directory with a token the API accepts, kept for its owner alone', async () => {
    const sut = await login(['--as', 'bob']);
    expect(sut).toMatchObject({ code: 0, err: [] });
    const file = config.cli.sessionFile;
    expect(sut.out).toEqual([
      expect.stringMatching(/^signed in as bob \(bob@example.com\) for http:\/\/localhost:\d+ until /),
    ]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);

    const session = readSession(file);
    expect(session).toMatchObject({ who: { id: 'bob', email: 'bob@example.com', name: 'Bob' }, via: 'local' });
    expect(sut.out.join('')).not.toContain(session.token);
    const verifier = await TokenVerifier.fromConfig(config.auth);
    await expect(verifier.verify(session.token)).resolves.toEqual({
      identity: { id: 'bob', email: 'bob@example.com', groups: ['security'] },
      emailVerified: true,
      roles: [],
    });
    expect(Date.parse(session.expiresAt!) - Date.now()).toBeGreaterThan(7.9 * 3_600_000);
  });

  it('without --as, lists the people to pick from', async () => {
    const sut = await login([]);
    expect(sut.code).toBe(2);
    expect(sut.err.join('\n')).toContain('latchkey login --as ID');
    expect(sut.out[0].split('\n')[0]).toMatch(/^ID\s+NAME\s+EMAIL\s+GROUPS\s+ROLES$/);
    expect(sut.out[0]).toMatch(/^alice\s+Alice\s+alice@example.com\s+engineering$/m);
    expect(sut.out[0]).toMatch(/^dave\s+Dave\s+dave@example.com\s+security-leads\s+admin$/m);
  });

  it('refuses someone the directory does not know, and a bad --ttl', async () => {
    await expect(login(['--as', 'mallory'])).resolves.toMatchObject({
      code: 2,
      err: [expect.stringContaining('nobody is "mallory"')],
    });
    await expect(login(['--as', 'alice', '--ttl', '31d'])).resolves.toMatchObject({ code: 2 });
  });

  it('logout removes the session', async () => {
    await login(['--as', 'alice']);
    const first = capture();
    await expect(runLogoutCommand([], first.io, config.cli.sessionFile)).resolves.toBe(0);
    expect(fs.existsSync(config.cli.sessionFile)).toBe(false);
    const second = capture();
    await runLogoutCommand([], second.io, config.cli.sessionFile);
    expect(second.out).toEqual(['not signed in']);
  });
});

describe('latchkey login, oidc mode', () => {
  it('needs the CLI’s client id at the provider', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-login-oidc-'));
    try {
      const config = loadConfig({
        LATCHKEY_DATA_DIR: dir,
        LATCHKEY_AUTH_MODE: 'oidc',
        LATCHKEY_AUTH_ISSUER: 'https://id.example.com',
        LATCHKEY_AUTH_AUDIENCE: 'latchkey',
      });
      const { io, err } = capture();
      await expect(runLoginCommand([], io, { config, signIn: loadCliSignInSettings({}) })).resolves.toBe(2);
      expect(err[0]).toContain('LATCHKEY_CLI_CLIENT_ID');
      await expect(runLoginCommand(['--as', 'alice'], io, { config, signIn: loadCliSignInSettings({}) })).resolves.toBe(
        2,
      );
      expect(err[1]).toContain('--as is for local auth mode');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
