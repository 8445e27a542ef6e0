import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../config/config';
import { TokenVerifier } from '../../api/identity/token-verifier';
import { runTokenCommand } from './token';

describe(runTokenCommand.name, () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-token-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const config = loadConfig({ LATCHKEY_DATA_DIR: dir, ...env });
    return runTokenCommand(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }, config).then((code) => ({
      code,
      out,
      err,
      config,
    }));
  }

  it('prints exactly one token, which the API accepts with the given identity and roles', async () => {
    const sut = await run([
      '--sub',
      'dave',
      '--email',
      'dave@example.com',
      '--groups',
      'security-leads',
      '--roles',
      'admin',
      '--ttl',
      '8h',
    ]);
    expect(sut.code).toBe(0);
    expect(sut.err).toEqual([]);
    expect(sut.out).toHaveLength(1);
    expect(sut.out[0]).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const verifier = await TokenVerifier.fromConfig(sut.config.auth);
    await expect(verifier.verify(sut.out[0])).resolves.toEqual({
      identity: { id: 'dave', email: 'dave@example.com', groups: ['security-leads'] },
      emailVerified: true,
      roles: ['admin'],
    });
  });

  it.each([
    [['--email', 'alice@example.com'], '--sub'],
    [['--sub', 'alice'], '--email'],
    [['--sub', 'alice@example.com', '--email', 'alice@example.com'], '--sub'],
    [['--sub', 'alice', '--email', 'alice@example.com', '--roles', 'root'], '--roles'],
    [['--sub', 'alice', '--email', 'alice@example.com', '--groups', "a'b"], '--groups'],
    [['--sub', 'alice', '--email', 'alice@example.com', '--ttl', '90d'], '--ttl'],
    [['--sub', 'alice', '--email', 'alice@example.com', '--bogus'], 'bogus'],
  ])('refuses %j without printing a token', async (argv, mentioned) => {
    const sut = await run(argv);
    expect(sut.code).toBe(2);
    expect(sut.out).toEqual([]);
    expect(sut.err.join('\n')).toContain(mentioned);
  });

  it('refuses to mint in OIDC mode, where tokens come from the identity provider', async () => {
    const sut = await run(['--sub', 'alice', '--email', 'alice@example.com'], {
      LATCHKEY_AUTH_MODE: 'oidc',
      LATCHKEY_AUTH_ISSUER: 'https://idp.example.com',
      LATCHKEY_AUTH_AUDIENCE: 'latchkey',
      LATCHKEY_AUTH_JWKS_URL: 'https://idp.example.com/jwks',
    });
    expect(sut.code).toBe(2);
    expect(sut.out).toEqual([]);
  });
});
