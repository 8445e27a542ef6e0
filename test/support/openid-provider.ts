import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';

/**
 * A real OpenID provider (the `oidc-provider` package, certified by the OpenID Foundation) on a local
 * port, made to issue the tokens of one commercial provider: a shape says what that provider puts in
 * its access tokens and ID tokens, taken from its documentation (docs/identity.md names the pages).
 * Tokens are obtained as a client would: the authorization code flow with PKCE, where the login step
 * signs the account named by `login_hint` in at once; or the device flow (RFC 8628) of latchkey's CLI, whose
 * browser side (`approveDevice`) enters the code and signs an account in through the provider's own pages.
 */
export interface TokenShape {
  /** The access token header's `typ`: oidc-provider's own is `at+jwt` (RFC 9068); undefined leaves none. */
  accessTokenTyp: string | undefined;
  accessTokenFormat: 'jwt' | 'opaque';
  /**
   * The access token's claims besides `iss`, `exp`, `iat` and `jti`, from what oidc-provider made
   * (`sub`, `client_id`, `scope`, `aud`). For opaque tokens: what introspection adds to its answer.
   */
  accessTokenClaims(account: TestAccount, issued: { sub: string; aud: string | string[]; scope?: string }): Claims;
  /** The ID token's claims besides `iss`, `aud`, `exp`, `iat`, `nonce` and `at_hash`. */
  idTokenClaims(account: TestAccount): Claims;
  /** The signing algorithm: Okta, Entra, Auth0 and Keycloak sign with RS256 by default. */
  alg?: 'RS256' | 'ES256';
}

export type Claims = Record<string, unknown>;

/** A person at the provider: `id` is the provider's account id (its `login_hint`), `claims` what the shape reads. */
export interface TestAccount {
  id: string;
  claims: Claims;
}

export interface OpenIdProviderOptions {
  shape: TokenShape;
  accounts: TestAccount[];
  /** The client that signs people in: its id is the ID token's `aud`. */
  clientId: string;
  /** The access token audience for the default resource (the API's identifier). */
  audience: string;
  /** Appended to the issuer, e.g. `/` (Auth0's issuers end with a slash). */
  issuerSuffix?: string;
  /** The web portal's callback (`<publicUrl>/portal/auth/callback`): registers the portal's client, PORTAL_CLIENT_ID. */
  portalRedirectUri?: string;
}

/** The resource indicator of latchkey's API, and of another API whose tokens latchkey must refuse. */
export const API_RESOURCE = 'https://latchkey.test/api';
export const OTHER_RESOURCE = 'https://other.test/api';
export const OTHER_AUDIENCE = 'other-api';

/**
 * oidc-provider warns that Node 20 is past its support and that its in-memory storage is for tests:
 * both true and both what a test wants, so those two warnings are not printed.
 */
async function quietly<T>(load: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/Unsupported runtime|in-memory adapter/.test(String(args[0]))) warn(...args);
  };
  try {
    return await load();
  } finally {
    console.warn = warn;
  }
}

const REDIRECT_URI = 'https://client.test/callback';
const CLIENT_SECRET = 'test-client-secret';
/** latchkey's own client at the provider, for introspection. */
export const INTROSPECTION_CLIENT = { id: 'latchkey-introspection', secret: 'test-introspection-secret' };
/** latchkey's CLI at the provider: a public client (no secret) that signs in with the device flow. */
export const DEVICE_CLIENT_ID = 'latchkey-cli';
/** latchkey's web portal at the provider: a public client (no secret) with the authorization code flow and PKCE. */
export const PORTAL_CLIENT_ID = 'latchkey-portal-web';
const DEVICE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
/** The login page of a sign-in that names nobody (the device flow's): the person says who they are. */
const LOGIN_FORM = '<!DOCTYPE html><form method="post"><input name="account"><button>Sign in</button></form>';

type Cookies = Map<string, string>;

function keepCookies(cookies: Cookies, response: Response): void {
  for (const cookie of response.headers.getSetCookie()) {
    const [pair] = cookie.split(';');
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at), pair.slice(at + 1));
  }
}

function cookieHeader(cookies: Cookies): string {
  return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

/** The value of a page's hidden form field, as a browser would submit it. */
function hiddenField(page: string, name: string): string {
  const field = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(page);
  if (!field) throw new Error(`no ${name} field in the page: ${page.slice(0, 300)}`);
  return field[1];
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export class TestOpenIdProvider {
  private jwksDown = false;

  private constructor(
    readonly issuer: string,
    private readonly server: http.Server,
    private readonly options: OpenIdProviderOptions,
  ) {}

  static async start(options: OpenIdProviderOptions): Promise<TestOpenIdProvider> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const issuer = `http://127.0.0.1:${port}${options.issuerSuffix ?? ''}`;
    const sut = new TestOpenIdProvider(issuer, server, options);
    const provider = await quietly(async () => {
      const { default: OpenIdProvider } = await import('oidc-provider');
      return new OpenIdProvider(issuer, await sut.configuration());
    });
    const callback = provider.callback();
    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
      if (sut.jwksDown && request.url?.startsWith('/jwks')) {
        response.statusCode = 503;
        response.end();
        return;
      }
      if (request.url?.startsWith('/interaction/')) {
        sut.completeLogin(provider, request, response).catch((err: unknown) => {
          response.statusCode = 500;
          response.end(String(err));
        });
        return;
      }
      void callback(request, response);
    });
    return sut;
  }

  get shape(): TokenShape {
    return this.options.shape;
  }

  /** The JWKS endpoint answers 503 (an outage at the provider) until `jwksBack()`. */
  jwksOutage(): void {
    this.jwksDown = true;
  }

  jwksBack(): void {
    this.jwksDown = false;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** An access token and an ID token for the account, through the authorization code flow with PKCE. */
  async signIn(accountId: string, resource = API_RESOURCE): Promise<{ accessToken: string; idToken: string }> {
    const verifier = crypto.randomBytes(32).toString('base64url');
    const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    const authorize = new URL(`${this.base}/auth`);
    authorize.search = new URLSearchParams({
      client_id: this.options.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile',
      login_hint: accountId,
      resource,
      state: crypto.randomUUID(),
      nonce: crypto.randomUUID(),
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();

    const code = await this.followToCode(authorize.toString());
    const response = await fetch(`${this.base}/token`, {
      method: 'POST',
      headers: {
        // RFC 6749 §2.3.1: the id and secret are form-encoded first (an `api://…` client id has a colon).
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.options.clientId)}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        resource,
      }).toString(),
    });
    const body = (await response.json()) as { access_token?: string; id_token?: string; error_description?: string };
    if (!response.ok || !body.access_token || !body.id_token) {
      throw new Error(`token endpoint: ${response.status} ${body.error_description ?? ''}`);
    }
    return { accessToken: body.access_token, idToken: body.id_token };
  }

  /**
   * The person's side of the device flow (RFC 8628 §3.3), as their browser does it on the provider's own pages:
   * the code entered at the verification URI, the device confirmed, then the login page submitted as `accountId`.
   */
  async approveDevice(userCode: string, accountId: string): Promise<void> {
    const cookies: Cookies = new Map();
    const device = `${this.base}/device`;
    const input = await this.browse(cookies, device);
    const confirm = await this.browse(cookies, device, { xsrf: hiddenField(input.page, 'xsrf'), user_code: userCode });
    const login = await this.browse(cookies, device, {
      xsrf: hiddenField(confirm.page, 'xsrf'),
      user_code: hiddenField(confirm.page, 'user_code'),
      confirm: 'yes',
    });
    if (!login.url.includes('/interaction/')) throw new Error(`the code was not taken: ${login.page.slice(0, 300)}`);
    const done = await this.browse(cookies, login.url, { account: accountId });
    if (!done.page.includes('Sign-in Success'))
      throw new Error(`the sign-in did not finish: ${done.page.slice(0, 300)}`);
  }

  /** A browser's visit: the form posted (if any), its redirects followed with the provider's cookies. */
  private async browse(cookies: Cookies, start: string, form?: Record<string, string>) {
    let url = start;
    let body = form ? new URLSearchParams(form).toString() : undefined;
    for (let hop = 0; hop < 10; hop += 1) {
      const response = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        redirect: 'manual',
        headers: {
          cookie: cookieHeader(cookies),
          ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        body,
      });
      keepCookies(cookies, response);
      const location = response.headers.get('location');
      if (!location) {
        const page = await response.text();
        if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}: ${page.slice(0, 300)}`);
        return { url, page };
      }
      await response.body?.cancel();
      url = new URL(location, url).href;
      body = undefined;
    }
    throw new Error(`too many redirects from ${start}`);
  }

  /** Where oidc-provider's routes are: the issuer without the trailing slash some providers add. */
  private get base(): string {
    return this.issuer.replace(/\/+$/, '');
  }

  /** Follows the provider's redirects (carrying its cookies) until it sends the browser back with a code. */
  private async followToCode(start: string): Promise<string> {
    const cookies: Cookies = new Map();
    let url = start;
    for (let hop = 0; hop < 10; hop += 1) {
      const response = await fetch(url, { redirect: 'manual', headers: { cookie: cookieHeader(cookies) } });
      keepCookies(cookies, response);
      const location = response.headers.get('location');
      if (!location) throw new Error(`authorization stopped at ${url}: HTTP ${response.status}`);
      const next = new URL(location, url);
      if (next.href.startsWith(REDIRECT_URI)) {
        const code = next.searchParams.get('code');
        if (!code) throw new Error(`authorization failed: ${next.searchParams.get('error_description') ?? next.href}`);
        return code;
      }
      url = next.href;
    }
    throw new Error('authorization did not end');
  }

  /**
   * The login and consent steps: the account of the request's `login_hint` is signed in and consents. A request
   * without one (the device flow's) gets a login page, and the account its form names is signed in.
   */
  private async completeLogin(provider: Provider, request: http.IncomingMessage, response: http.ServerResponse) {
    const details = await provider.interactionDetails(request, response);
    let accountId = details.params.login_hint as string | undefined;
    if (accountId === undefined) {
      if (request.method !== 'POST') {
        response.setHeader('content-type', 'text/html; charset=utf-8');
        response.end(LOGIN_FORM);
        return;
      }
      accountId = new URLSearchParams(await readBody(request)).get('account') ?? '';
    }
    this.account(accountId);
    const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope('openid email profile');
    grant.addResourceScope((details.params.resource as string | undefined) ?? API_RESOURCE, 'latchkey');
    const grantId = await grant.save();
    await provider.interactionFinished(
      request,
      response,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  private account(id: string | undefined): TestAccount {
    const account = this.options.accounts.find((candidate) => candidate.id === id);
    if (!account) throw new Error(`no test account ${id}`);
    return account;
  }

  private async configuration(): Promise<Configuration> {
    const { shape, clientId, audience } = this.options;
    const alg = shape.alg ?? 'RS256';
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const signingKey = { ...(await exportJWK(privateKey)), kid: `${alg.toLowerCase()}-1`, alg, use: 'sig' };
    const idTokenClaimNames = [
      ...new Set(this.options.accounts.flatMap((account) => Object.keys(shape.idTokenClaims(account)))),
    ];
    return {
      clients: [
        {
          client_id: clientId,
          client_secret: CLIENT_SECRET,
          redirect_uris: [REDIRECT_URI],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          id_token_signed_response_alg: alg,
        },
        {
          client_id: DEVICE_CLIENT_ID,
          token_endpoint_auth_method: 'none',
          redirect_uris: [],
          grant_types: [DEVICE_GRANT_TYPE],
          response_types: [],
          id_token_signed_response_alg: alg,
        },
        ...(this.options.portalRedirectUri
          ? [
              {
                client_id: PORTAL_CLIENT_ID,
                token_endpoint_auth_method: 'none' as const,
                redirect_uris: [this.options.portalRedirectUri],
                grant_types: ['authorization_code'],
                response_types: ['code' as const],
                id_token_signed_response_alg: alg,
              },
            ]
          : []),
        {
          client_id: INTROSPECTION_CLIENT.id,
          client_secret: INTROSPECTION_CLIENT.secret,
          redirect_uris: [],
          grant_types: [],
          response_types: [],
        },
      ],
      jwks: { keys: [signingKey] as never },
      // Every claim of the shape goes into the ID token, as these providers put them there.
      claims: { openid: ['sub', ...idTokenClaimNames] },
      conformIdTokenClaims: false,
      findAccount: (_ctx, sub) => {
        const account = this.account(sub);
        return { accountId: account.id, claims: () => ({ sub: account.id, ...shape.idTokenClaims(account) }) };
      },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      cookies: { keys: ['test-cookie-key'] },
      ttl: {
        AccessToken: 600,
        AuthorizationCode: 60,
        DeviceCode: 600,
        IdToken: 600,
        Interaction: 600,
        Grant: 600,
        Session: 600,
      },
      features: {
        devInteractions: { enabled: false },
        // The provider's own pages and forms, without its notice (printed at each use) that they be restyled.
        deviceFlow: {
          enabled: true,
          userCodeInputSource: (ctx, form) => {
            ctx.body = `<!DOCTYPE html>${form}`;
          },
          userCodeConfirmSource: (ctx, form, _client, _deviceInfo, userCode) => {
            ctx.body = `<!DOCTYPE html><p>${userCode}</p>${form}`;
          },
          successSource: (ctx) => {
            ctx.body = '<!DOCTYPE html><p>Sign-in Success</p>';
          },
        },
        introspection: { enabled: true, allowedPolicy: (_ctx, client) => client.clientId === INTROSPECTION_CLIENT.id },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => API_RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resource) => ({
            scope: 'latchkey',
            audience: resource === OTHER_RESOURCE ? OTHER_AUDIENCE : audience,
            accessTokenFormat: shape.accessTokenFormat,
            jwt: { sign: { alg } },
          }),
        },
      },
      // Opaque tokens: what introspection answers besides the standard fields.
      extraTokenClaims: (_ctx: KoaContextWithOIDC, token) => {
        if (shape.accessTokenFormat !== 'opaque' || !('accountId' in token) || !token.accountId) return undefined;
        return shape.accessTokenClaims(this.account(token.accountId), {
          sub: token.accountId,
          aud: audience,
          scope: token.scope,
        });
      },
      formats: {
        customizers: {
          // JWT access tokens: the provider's header and claims in place of oidc-provider's RFC 9068 ones.
          jwt: (_ctx, token, jwt) => {
            const { iss, exp, iat, jti, sub, aud, scope } = jwt.payload;
            const account = this.account('accountId' in token ? token.accountId : undefined);
            jwt.payload = {
              iss,
              exp,
              iat,
              jti,
              ...shape.accessTokenClaims(account, {
                sub: String(sub),
                aud: aud as string | string[],
                scope: scope as string | undefined,
              }),
            };
            jwt.header = { typ: shape.accessTokenTyp };
          },
        },
      },
    };
  }
}
