import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { loadConfig, repoRoot } from '../../../config/config';
import {
  API_RESOURCE,
  DEVICE_CLIENT_ID,
  OTHER_RESOURCE,
  TestOpenIdProvider,
} from '../../../test/support/openid-provider';
import { GENERIC } from '../../../test/support/token-shapes';
import { loadCommandSigningKey } from '../../../trust/command-keys';
import { createLogger } from '../../api/logging/logger';
import { type RunningApi, startApiServer } from '../../api/server';
import { readSession } from '../session';
import { closedPort } from '../../../test/support/closed-port';

/**
 * `latchkey login` with an OpenID provider: the device flow (RFC 8628) of the built CLI (dist/, which
 * `npm test` builds first; openid-client is an ECMAScript module that Jest's CommonJS runtime does not load,
 * and the built CLI is what people run) against a real oidc-provider, whose pages the test walks through as
 * the person's browser would, and the API in oidc mode, which must accept the token the CLI keeps.
 */
describe('latchkey login at an OpenID provider: the device flow, against the API in oidc mode', () => {
  let dir: string;
  let provider: TestOpenIdProvider;
  let api: RunningApi;
  let env: NodeJS.ProcessEnv;
  let sessionFile: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-device-'));
    provider = await TestOpenIdProvider.start({
      shape: GENERIC,
      clientId: 'latchkey-portal',
      audience: 'latchkey',
      accounts: [
        { id: 'alice', claims: { email: 'alice@example.com', email_verified: true, groups: ['engineering'] } },
      ],
    });
    env = {
      LATCHKEY_DATA_DIR: dir,
      LATCHKEY_AUTH_MODE: 'oidc',
      LATCHKEY_AUTH_ISSUER: provider.issuer,
      LATCHKEY_AUTH_AUDIENCE: 'latchkey',
      LATCHKEY_API_PORT: String(await closedPort()),
      TEMPORAL_ADDRESS: `127.0.0.1:${await closedPort()}`,
      LATCHKEY_LOG_LEVEL: 'error',
    };
    const config = loadConfig(env);
    loadCommandSigningKey(config.commands.signingKeyFile, { create: true });
    api = await startApiServer(config, createLogger('error', { write: () => undefined }));
    sessionFile = path.join(dir, 'home', 'latchkey', 'session.json');
    env = {
      ...env,
      LATCHKEY_API_URL: api.url,
      LATCHKEY_CLI_SESSION_FILE: sessionFile,
      LATCHKEY_CLI_CLIENT_ID: DEVICE_CLIENT_ID,
    };
  });
  afterAll(async () => {
    await api?.close();
    await provider?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `latchkey login`; when it shows the code, the person enters it at the provider and signs in. */
  function login(extraEnv: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const cli = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'apps', 'cli', 'main.js'), 'login'], {
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let approving: Promise<void> | undefined;
    cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const userCode = /enter the code (\S+)/.exec(stderr)?.[1];
      if (userCode && !approving) approving = provider.approveDevice(userCode, 'alice');
    });
    return new Promise((resolve, reject) => {
      cli.on('error', reject);
      cli.on('exit', (code) => {
        void (approving ?? Promise.resolve()).then(() => resolve({ code, stdout, stderr }), reject);
      });
    });
  }

  it('shows where to go and the code, waits for the sign-in, and keeps an access token the API accepts', async () => {
    const sut = await login({ LATCHKEY_CLI_RESOURCE: API_RESOURCE });
    expect(sut.stderr).toMatch(
      new RegExp(`^To sign in, open ${provider.issuer}/device and enter the code [A-Z]{4}-[A-Z]{4}\\n`),
    );
    expect(sut.code).toBe(0);
    expect(sut.stdout).toMatch(/^signed in as alice \(alice@example.com\) for http:\/\/127.0.0.1:\d+ until \S+Z; /);

    expect(fs.statSync(sessionFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(sessionFile)).mode & 0o777).toBe(0o700);
    const session = readSession(sessionFile);
    expect(session).toMatchObject({ apiUrl: api.url, via: 'oidc', who: { id: 'alice', email: 'alice@example.com' } });
    expect(sut.stdout + sut.stderr).not.toContain(session.token);
    // An access token (RFC 9068) for the API's audience, not the ID token; and the API takes it.
    expect(decodeProtectedHeader(session.token).typ).toBe('at+jwt');
    expect(decodeJwt(session.token)).toMatchObject({ aud: 'latchkey', sub: 'alice' });
    const me = await fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${session.token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ id: 'alice', email: 'alice@example.com', groups: ['engineering'], roles: [] });
  }, 60_000);

  it('keeps nothing when the API refuses the token (one not for its audience), and says what to check', async () => {
    fs.rmSync(sessionFile, { force: true });
    // The provider issues a token for the API the CLI names: here another one.
    const sut = await login({ LATCHKEY_CLI_RESOURCE: OTHER_RESOURCE });
    expect(sut.code).toBe(1);
    expect(sut.stderr).toMatch(/refuses the token .* for the audience latchkey\? LATCHKEY_CLI_RESOURCE/);
    expect(fs.existsSync(sessionFile)).toBe(false);
  }, 60_000);
});
