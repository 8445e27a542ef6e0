import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../config/config';
import { ApiWorld, type HttpResult } from '../../../test/support/api-world';
import { API_RESOURCE, PORTAL_CLIENT_ID, TestOpenIdProvider } from '../../../test/support/openid-provider';
import { GENERIC } from '../../../test/support/token-shapes';
import { loadCommandSigningKey } from '../../../trust/command-keys';
import { createLogger } from '../logging/logger';
import { type RunningApi, startApiServer } from '../server';
import { PORTAL_CSP } from './static-files';
import { closedPort } from '../../../test/support/closed-port';

/** Where the API says it is (behind a proxy, say): the provider sends browsers back there. */
const PUBLIC_URL = 'https://latchkey.test';
const justification = 'Investigating INC-4211: slow queries on orders';

/** A browser's cookie jar for one site: what Set-Cookie put there, sent back on every request. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  keep(response: Response): void {
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
      if (value === '' || attributes.some((attribute) => attribute.trim() === 'Max-Age=0')) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/**
 * The person's browser at the provider: follows its redirects and, on its login page, signs in as `accountId`,
 * until the provider sends the browser back to the portal; returns that callback URL.
 */
async function signInAtProvider(start: string, accountId: string): Promise<URL> {
  const jar = new CookieJar();
  let url = start;
  let form: string | undefined;
  for (let hop = 0; hop < 12; hop += 1) {
    const response = await fetch(url, {
      method: form === undefined ? 'GET' : 'POST',
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body: form,
    });
    jar.keep(response);
    const location = response.headers.get('location');
    if (location) {
      await response.body?.cancel();
      const next = new URL(location, url);
      if (next.href.startsWith(`${PUBLIC_URL}/`)) return next;
      url = next.href;
      form = undefined;
      continue;
    }
    const page = await response.text();
    if (!response.ok || !page.includes('<form'))
      throw new Error(`${url}: HTTP ${response.status}: ${page.slice(0, 200)}`);
    form = new URLSearchParams({ account: accountId }).toString();
  }
  throw new Error('the provider never sent the browser back');
}

describe('the portal signs people in at a real OpenID provider (code flow with PKCE) and keeps a session cookie', () => {
  let provider: TestOpenIdProvider;
  let world: ApiWorld;
  /** The portal's own site, as the browser sees it: its cookies. */
  let browser: CookieJar;
  let csrfToken: string;

  /** A call to the API from the portal's page: the browser's cookies, and the page's Origin on changes. */
  async function portalCall(
    method: string,
    urlPath: string,
    options: { json?: unknown; headers?: Record<string, string>; jar?: CookieJar } = {},
  ): Promise<HttpResult> {
    const jar = options.jar ?? browser;
    const headers: Record<string, string> = { cookie: jar.header(), ...options.headers };
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${world.baseUrl}${urlPath}`, {
      method,
      redirect: 'manual',
      headers,
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
    });
    jar.keep(response);
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
  }

  /** The portal's sign-in, from the login link to the callback; returns the callback's answer. */
  async function signIn(accountId: string, returnTo: string, jar: CookieJar, tamper?: (callback: URL) => void) {
    const login = await fetch(`${world.baseUrl}/portal/auth/login?returnTo=${encodeURIComponent(returnTo)}`, {
      redirect: 'manual',
    });
    jar.keep(login);
    expect(login.status).toBe(302);
    const callback = await signInAtProvider(login.headers.get('location')!, accountId);
    tamper?.(callback);
    const response = await fetch(`${world.baseUrl}${callback.pathname}${callback.search}`, {
      redirect: 'manual',
      headers: { cookie: jar.header() },
    });
    jar.keep(response);
    return { response, callback };
  }

  beforeAll(async () => {
    provider = await TestOpenIdProvider.start({
      shape: GENERIC,
      clientId: 'latchkey-tokens',
      audience: 'latchkey',
      portalRedirectUri: `${PUBLIC_URL}/portal/auth/callback`,
      accounts: [
        {
          id: 'alice',
          claims: { email: 'alice@example.com', email_verified: true, groups: ['engineering'], name: 'Alice Liddell' },
        },
      ],
    });
    world = await ApiWorld.create('portal-oidc', {
      LATCHKEY_AUTH_MODE: 'oidc',
      LATCHKEY_AUTH_ISSUER: provider.issuer,
      LATCHKEY_AUTH_AUDIENCE: 'latchkey',
      LATCHKEY_PUBLIC_URL: PUBLIC_URL,
      LATCHKEY_PORTAL_CLIENT_ID: PORTAL_CLIENT_ID,
      LATCHKEY_PORTAL_RESOURCE: API_RESOURCE,
    });
    browser = new CookieJar();
  }, 120_000);
  afterAll(async () => {
    await world?.dispose();
    await provider?.close();
  }, 60_000);

  it('says who may sign in, and how, before anyone has', async () => {
    const session = await portalCall('GET', '/portal/auth/session');
    expect(session.status).toBe(401);
    expect(session.body).toEqual({
      error: { code: 'unauthenticated', message: expect.any(String) },
      mode: 'oidc',
      signIn: '/portal/auth/login',
    });
    // The other mode's routes are not there.
    expect((await portalCall('GET', '/portal/auth/people')).status).toBe(404);
  });

  it('sends the browser to the provider with state, nonce and an S256 code challenge, remembered in a sealed cookie', async () => {
    const jar = new CookieJar();
    const response = await fetch(`${world.baseUrl}/portal/auth/login?returnTo=/portal/inbox`, { redirect: 'manual' });
    jar.keep(response);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(`${provider.issuer}/auth`);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      client_id: PORTAL_CLIENT_ID,
      response_type: 'code',
      redirect_uri: `${PUBLIC_URL}/portal/auth/callback`,
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      state: expect.any(String),
      nonce: expect.any(String),
      resource: API_RESOURCE,
    });
    const pending = response.headers.getSetCookie().find((cookie) => cookie.startsWith('latchkey_oidc='))!;
    expect(pending).toMatch(/; Path=\/portal\/auth; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);
    // Nothing the provider needs back is readable in it.
    expect(pending).not.toContain(location.searchParams.get('state')!);
  });

  it('signs alice in: the callback verifies her access token, sets the session cookie and returns to her page', async () => {
    const { response, callback } = await signIn('alice', '/portal/inbox', browser);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/portal/inbox');
    const cookies = response.headers.getSetCookie();
    expect(cookies.find((cookie) => cookie.startsWith('latchkey_session='))).toMatch(
      /^latchkey_session=v1\.[\w-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict; Secure$/,
    );
    expect(cookies.find((cookie) => cookie.startsWith('latchkey_oidc='))).toMatch(/^latchkey_oidc=; .*Max-Age=0/);
    expect(browser.get('latchkey_oidc')).toBeUndefined();
    // The code and the cookie never reach the log.
    const log = world.logLines.join('\n');
    expect(log).not.toContain(callback.searchParams.get('code')!);
    expect(log).not.toContain(browser.get('latchkey_session')!);

    const session = await portalCall('GET', '/portal/auth/session');
    expect(session.status).toBe(200);
    expect(session.body).toEqual({
      mode: 'oidc',
      person: { id: 'alice', email: 'alice@example.com', name: 'Alice Liddell' },
      roles: [],
      groups: ['engineering'],
      csrfToken: expect.stringMatching(/^[\w-]{43}$/),
      expiresAt: expect.any(String),
    });
    expect(Date.parse(session.body.expiresAt as string)).toBeLessThanOrEqual(Date.now() + 12 * 3600_000);
    csrfToken = session.body.csrfToken as string;
  }, 30_000);

  it('authenticates API calls with the cookie alone, as a bearer token would', async () => {
    const me = await portalCall('GET', '/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ id: 'alice', email: 'alice@example.com', groups: ['engineering'], roles: [] });

    const created = await portalCall('POST', '/v1/requests', {
      json: { resourceId: 'prod-db', duration: 'PT1H', justification },
      headers: { 'x-csrf-token': csrfToken, origin: PUBLIC_URL },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ requesterId: 'alice', status: 'PENDING_APPROVAL' });
  }, 30_000);

  it('refuses a change without the CSRF token, or from a foreign origin (403 csrf-failed), and starts nothing', async () => {
    const before = await world.requestCount();
    const json = { resourceId: 'prod-db', duration: 'PT1H', justification };
    const missing = await portalCall('POST', '/v1/requests', { json, headers: { origin: PUBLIC_URL } });
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual({ error: { code: 'csrf-failed', message: expect.any(String) } });
    const wrong = await portalCall('POST', '/v1/requests', { json, headers: { 'x-csrf-token': 'guess' } });
    expect(wrong.status).toBe(403);
    const foreign = await portalCall('POST', '/v1/requests', {
      json,
      headers: { 'x-csrf-token': csrfToken, origin: 'https://evil.test' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('csrf-failed');
    expect(await world.requestCount()).toBe(before);
  });

  it('takes a tampered or forged cookie for no credential at all (401)', async () => {
    const value = browser.get('latchkey_session')!;
    // The last character but one, always a whole six bits of the sealed bytes (the last may hold only padding).
    const tampered = value.at(-2) === 'A' ? 'B' : 'A';
    const flipped = `${value.slice(0, -2)}${tampered}${value.slice(-1)}`;
    expect(flipped).not.toBe(value);
    for (const forged of [flipped, 'v1.AAAA', 'anything']) {
      const jar = new CookieJar();
      jar.set('latchkey_session', forged);
      const me = await portalCall('GET', '/v1/me', { jar });
      expect(me.status).toBe(401);
      expect(me.body.error.code).toBe('unauthenticated');
    }
  });

  it('refuses a callback whose state is not the one this browser started, and sets no session', async () => {
    const jar = new CookieJar();
    const { response } = await signIn('alice', '/portal/inbox', jar, (callback) =>
      callback.searchParams.set('state', 'someone-elses-state'),
    );
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/portal/?signInError=bad-state');
    expect(jar.get('latchkey_session')).toBeUndefined();
    expect(jar.get('latchkey_oidc')).toBeUndefined();
  }, 30_000);

  it('refuses a callback in a browser that never started a sign-in (a code pushed on someone)', async () => {
    const started = new CookieJar();
    const { callback } = await signIn('alice', '/portal/', started, () => undefined);
    const victim = await fetch(`${world.baseUrl}${callback.pathname}${callback.search}`, { redirect: 'manual' });
    expect(victim.headers.get('location')).toBe('/portal/?signInError=sign-in-expired');
    expect(victim.headers.getSetCookie().some((cookie) => cookie.startsWith('latchkey_session=v1'))).toBe(false);
  }, 30_000);

  it('says the provider refused, without echoing what it said', async () => {
    const response = await fetch(
      `${world.baseUrl}/portal/auth/callback?error=access_denied&error_description=${encodeURIComponent('<script>')}&state=x`,
      { redirect: 'manual' },
    );
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/portal/?signInError=access-denied');
  });

  it('returns only to a page of the portal (no open redirect)', async () => {
    for (const returnTo of ['https://evil.test/portal/', '//evil.test/', '/portal/../v1/me']) {
      const { response } = await signIn('alice', returnTo, new CookieJar());
      expect(response.headers.get('location')).toBe('/portal/');
    }
  }, 60_000);

  it('signs out: the cookie is cleared (with the CSRF token), and refused without it', async () => {
    expect((await portalCall('POST', '/portal/auth/logout')).status).toBe(403);
    const out = await portalCall('POST', '/portal/auth/logout', {
      headers: { 'x-csrf-token': csrfToken, origin: PUBLIC_URL },
    });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie()).toEqual([
      'latchkey_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure',
    ]);
    expect((await portalCall('GET', '/v1/me')).status).toBe(401);
  });
});

describe('the portal in local mode: pick one of the demo people', () => {
  let dir: string;
  let api: RunningApi;
  const jar = new CookieJar();

  async function call(
    method: string,
    urlPath: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpResult> {
    const response = await fetch(`${api.url}${urlPath}`, {
      method,
      redirect: 'manual',
      headers: { cookie: jar.header(), ...init.headers },
      body: init.body,
    });
    jar.keep(response);
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, text, body };
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-portal-local-'));
    const port = await closedPort();
    const config = loadConfig({
      LATCHKEY_DATA_DIR: dir,
      LATCHKEY_API_PORT: String(port),
      TEMPORAL_ADDRESS: `127.0.0.1:${await closedPort()}`,
      LATCHKEY_LOG_LEVEL: 'error',
    });
    loadCommandSigningKey(config.commands.signingKeyFile, { create: true });
    api = await startApiServer(config, createLogger('error', { write: () => undefined }));
  });
  afterAll(async () => {
    await api?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the directory’s people for the sign-in page', async () => {
    const people = await call('GET', '/portal/auth/people');
    expect(people.status).toBe(200);
    expect(people.body).toContainEqual({
      id: 'bob',
      name: 'Bob',
      email: 'bob@example.com',
      groups: ['security'],
      roles: [],
    });
    expect((people.body as Array<{ id: string }>).map((person) => person.id)).toEqual(
      expect.arrayContaining(['alice', 'bob', 'dave', 'ada']),
    );
    const session = await call('GET', '/portal/auth/session');
    expect(session.status).toBe(401);
    expect(session.body).toMatchObject({ mode: 'local', signIn: null });
    expect((await call('GET', '/portal/auth/login')).status).toBe(404);
  });

  it('refuses a sign-in that is not the portal’s own JSON post', async () => {
    const body = JSON.stringify({ personId: 'bob' });
    const form = await call('POST', '/portal/auth/local', { body, headers: { 'content-type': 'text/plain' } });
    expect(form.status).toBe(415);
    const foreign = await call('POST', '/portal/auth/local', {
      body,
      headers: { 'content-type': 'application/json', origin: 'https://evil.test' },
    });
    expect(foreign.status).toBe(403);
    const nobody = await call('POST', '/portal/auth/local', {
      body: JSON.stringify({ personId: 'mallory' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(nobody.status).toBe(400);
    expect(jar.get('latchkey_session')).toBeUndefined();
  });

  it('signs in as bob, and the API then takes the browser for bob', async () => {
    const signIn = await call('POST', '/portal/auth/local', {
      body: JSON.stringify({ personId: 'bob' }),
      headers: { 'content-type': 'application/json', origin: 'http://localhost:' + new URL(api.url).port },
    });
    expect(signIn.status).toBe(204);
    expect(signIn.headers.getSetCookie()[0]).toMatch(
      /^latchkey_session=v1\.[\w-]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict$/,
    );
    const session = await call('GET', '/portal/auth/session');
    expect(session.body).toMatchObject({
      mode: 'local',
      person: { id: 'bob', email: 'bob@example.com', name: 'Bob' },
      groups: ['security'],
      roles: [],
    });
    const me = await call('GET', '/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ id: 'bob', email: 'bob@example.com', groups: ['security'], roles: [] });
  });

  it('leads / to the portal, and answers its pages under the portal’s CSP (built or not)', async () => {
    const root = await call('GET', '/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/portal/');
    const page = await call('GET', '/portal/inbox');
    expect([200, 503]).toContain(page.status);
    if (page.status === 503) expect(page.text).toBe('portal not built: run npm run build\n');
    expect(page.headers.get('content-security-policy')).toBe(PORTAL_CSP);
  });
});
