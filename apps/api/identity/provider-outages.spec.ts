import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../config/config';
import { parseOidcAuth } from '../../../config/identity';
import { INTROSPECTION_CLIENT, TestOpenIdProvider } from '../../../test/support/openid-provider';
import { GENERIC, GOOGLE } from '../../../test/support/token-shapes';
import { loadCommandSigningKey } from '../../../trust/command-keys';
import { createLogger } from '../logging/logger';
import { type RunningApi, startApiServer } from '../server';
import { IdentityProviderMisconfigured, IdentityProviderUnavailable } from './identity-provider';
import { TokenVerifier } from './token-verifier';
import { closedPort } from '../../../test/support/closed-port';

const ALICE = {
  id: 'alice',
  claims: { email: 'alice@example.com', email_verified: true, groups: ['engineering'] },
};

describe('an OpenID provider found by discovery, and its outages', () => {
  let provider: TestOpenIdProvider;
  beforeEach(async () => {
    provider = await TestOpenIdProvider.start({
      shape: GENERIC,
      clientId: 'latchkey',
      audience: 'latchkey',
      accounts: [ALICE],
    });
  });
  afterEach(() => provider.close());

  const verifierFor = (issuer: string, startupWaitMs = 0) =>
    TokenVerifier.fromConfig(
      parseOidcAuth({ LATCHKEY_AUTH_ISSUER: issuer, LATCHKEY_AUTH_AUDIENCE: 'latchkey' }, 3600),
      { startupWaitMs },
    );

  it('accepts tokens when the configured issuer has a trailing slash the provider does not use', async () => {
    expect(provider.issuer).not.toMatch(/\/$/);
    const sut = await verifierFor(`${provider.issuer}/`);
    const caller = await sut.verify((await provider.signIn('alice')).accessToken);
    expect(caller.identity.id).toBe('alice');
  });

  it('refuses to start, saying why, when the provider names another issuer or serves no keys', async () => {
    const byAnotherName = provider.issuer.replace('127.0.0.1', 'localhost');
    await expect(verifierFor(byAnotherName)).rejects.toThrow(
      `cannot use the identity provider ${byAnotherName}: LATCHKEY_AUTH_ISSUER is ${byAnotherName}, but the provider at ` +
        `${byAnotherName}/.well-known/openid-configuration says its issuer is ${provider.issuer}`,
    );
    await expect(verifierFor(`${provider.issuer}/tenant-b`)).rejects.toThrow(
      new IdentityProviderMisconfigured(
        `cannot use the identity provider ${provider.issuer}/tenant-b: the discovery document at ${provider.issuer}/tenant-b/.well-known/openid-configuration answered HTTP 404`,
      ),
    );
    provider.jwksOutage();
    await expect(verifierFor(provider.issuer, 500)).rejects.toThrow(
      `cannot use the identity provider ${provider.issuer}: the JWKS at ${provider.issuer}/jwks answered HTTP 503`,
    );
  });

  it('waits for a provider that starts after latchkey, within the startup wait', async () => {
    provider.jwksOutage();
    setTimeout(() => provider.jwksBack(), 600);
    await expect(verifierFor(provider.issuer, 20_000)).resolves.toBeInstanceOf(TokenVerifier);
  });

  it('opaque tokens: refuses to start without its introspection secret; an introspection outage is the provider’s, not the token’s', async () => {
    const google = await TestOpenIdProvider.start({
      shape: GOOGLE,
      clientId: 'portal',
      audience: 'latchkey',
      accounts: [{ id: '110169484474386276334', claims: { email: 'alice@example.com', hd: 'example.com' } }],
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-introspection-'));
    const secretFile = path.join(dir, 'secret');
    const env = {
      LATCHKEY_AUTH_ISSUER: google.issuer,
      LATCHKEY_AUTH_AUDIENCE: 'latchkey',
      LATCHKEY_AUTH_PROFILE: 'google-workspace',
      LATCHKEY_AUTH_INTROSPECTION_CLIENT_ID: INTROSPECTION_CLIENT.id,
      LATCHKEY_AUTH_INTROSPECTION_CLIENT_SECRET_FILE: secretFile,
    };
    try {
      await expect(TokenVerifier.fromConfig(parseOidcAuth(env, 3600), { startupWaitMs: 0 })).rejects.toThrow(
        `LATCHKEY_AUTH_INTROSPECTION_CLIENT_SECRET_FILE (${secretFile}) cannot be read: ENOENT`,
      );
      fs.writeFileSync(secretFile, INTROSPECTION_CLIENT.secret);
      const sut = await TokenVerifier.fromConfig(parseOidcAuth(env, 3600), { startupWaitMs: 0 });
      const { accessToken } = await google.signIn('110169484474386276334');
      await google.close();
      await expect(sut.verify(accessToken)).rejects.toBeInstanceOf(IdentityProviderUnavailable);
    } finally {
      await google.close().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('the API process', () => {
    let dir: string;
    let api: RunningApi;
    let logLines: string[];

    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-oidc-api-'));
      const config = loadConfig({
        LATCHKEY_DATA_DIR: dir,
        LATCHKEY_AUTH_MODE: 'oidc',
        LATCHKEY_AUTH_ISSUER: provider.issuer,
        LATCHKEY_AUTH_AUDIENCE: 'latchkey',
        LATCHKEY_API_PORT: String(await closedPort()),
        TEMPORAL_ADDRESS: `127.0.0.1:${await closedPort()}`,
        LATCHKEY_LOG_LEVEL: 'error',
      });
      // A deployment provisions the command key (compose's setup service); here it is made beforehand.
      loadCommandSigningKey(config.commands.signingKeyFile, { create: true });
      logLines = [];
      api = await startApiServer(config, createLogger('info', { write: (line: string) => logLines.push(line) }));
    });
    afterEach(async () => {
      await api.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const get = (route: string, token?: string) =>
      fetch(`${api.url}${route}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

    it('starts while Temporal is not reachable: alive, not ready, and answers token-only routes', async () => {
      expect((await get('/healthz')).status).toBe(200);
      const ready = await get('/readyz');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ error: { code: 'not-ready' } });
      const me = await get('/v1/me', (await provider.signIn('alice')).accessToken);
      expect(me.status).toBe(200);
      expect(await me.json()).toEqual({ id: 'alice', email: 'alice@example.com', groups: ['engineering'], roles: [] });
    });

    it('answers 503 with Retry-After while the JWKS cannot be fetched, then 200 once it is back', async () => {
      const { accessToken } = await provider.signIn('alice');
      provider.jwksOutage();
      const during = await get('/v1/me', accessToken);
      expect(during.status).toBe(503);
      expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await during.json()).toMatchObject({ error: { code: 'identity-provider-unavailable' } });

      const outageLog = logLines.find((line) => line.includes('identity provider unavailable'));
      expect(JSON.parse(outageLog!)).toMatchObject({ level: 40, reason: expect.stringContaining('the JWKS') });
      expect(logLines.join('')).not.toContain(accessToken);

      provider.jwksBack();
      expect((await get('/v1/me', accessToken)).status).toBe(200);
      // Keys once fetched are kept: a later outage does not stop tokens signed with them.
      provider.jwksOutage();
      expect((await get('/v1/me', accessToken)).status).toBe(200);
    });
  });
});
