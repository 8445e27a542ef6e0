import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { parseOidcAuth } from '../../../config/identity';
import {
  INTROSPECTION_CLIENT,
  OTHER_RESOURCE,
  type OpenIdProviderOptions,
  TestOpenIdProvider,
} from '../../../test/support/openid-provider';
import { AUTH0, AUTH0_NAMESPACE, ENTRA, GENERIC, GOOGLE, KEYCLOAK, OKTA } from '../../../test/support/token-shapes';
import type { Caller } from './caller';
import { TokenRejected } from './claim-mapping';
import { TokenVerifier } from './token-verifier';

/**
 * One test per provider profile, against a real OpenID provider issuing that provider's token shapes:
 * the access token yields the right id, e-mail, groups and roles; the same person's ID token and an
 * access token for another API are refused.
 */
describe('identity provider profiles', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-idp-'));
  const introspectionSecretFile = path.join(dir, 'introspection-secret');
  fs.writeFileSync(introspectionSecretFile, `${INTROSPECTION_CLIENT.secret}\n`);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  let provider: TestOpenIdProvider | undefined;
  afterEach(async () => {
    await provider?.close();
    provider = undefined;
  });

  async function setUp(options: OpenIdProviderOptions, env: Record<string, string>) {
    provider = await TestOpenIdProvider.start(options);
    const auth = parseOidcAuth(
      { LATCHKEY_AUTH_ISSUER: provider.issuer, LATCHKEY_AUTH_AUDIENCE: options.audience, ...env },
      3600,
    );
    const sut = await TokenVerifier.fromConfig(auth, { startupWaitMs: 0 });
    return { sut, provider };
  }

  async function rejection(sut: TokenVerifier, token: string): Promise<string> {
    try {
      await sut.verify(token);
    } catch (err) {
      if (err instanceof TokenRejected) return err.reason;
      throw err;
    }
    throw new Error('the token was accepted');
  }

  /** The person's access token gives the caller; their ID token and a token for another API do not. */
  async function expectProfile(
    sut: TokenVerifier,
    idp: TestOpenIdProvider,
    accountId: string,
    expected: Caller,
    idTokenRefusal: RegExp,
  ) {
    const { accessToken, idToken } = await idp.signIn(accountId);
    // The token is shaped as the provider issues it, down to the header.
    if (idp.shape.accessTokenFormat === 'jwt') {
      expect(decodeProtectedHeader(accessToken).typ).toBe(idp.shape.accessTokenTyp);
    } else {
      expect(accessToken.split('.')).toHaveLength(1);
    }
    await expect(sut.verify(accessToken)).resolves.toEqual(expected);
    expect(await rejection(sut, idToken)).toMatch(idTokenRefusal);
    const forOtherApi = await idp.signIn(accountId, OTHER_RESOURCE);
    expect(await rejection(sut, forOtherApi.accessToken)).toMatch(/ERR_JWT_CLAIM_VALIDATION_FAILED|audience/);
  }

  it('okta: the id from uid (the access token sub is the login), groups from the groups claim', async () => {
    const { sut, provider } = await setUp(
      {
        shape: OKTA,
        clientId: 'api://latchkey',
        audience: 'api://latchkey',
        accounts: [
          {
            id: '00u1a2b3c4D5e6F7g8h9',
            claims: { uid: '00u1a2b3c4D5e6F7g8h9', login: 'alice@example.com', groups: ['engineering', 'Everyone'] },
          },
        ],
      },
      { LATCHKEY_AUTH_PROFILE: 'okta' },
    );
    await expectProfile(
      sut,
      provider,
      '00u1a2b3c4D5e6F7g8h9',
      {
        identity: { id: '00u1a2b3c4D5e6F7g8h9', email: 'alice@example.com', groups: ['engineering', 'Everyone'] },
        roles: [],
      },
      /not an access token: expected typ at\+jwt or scp/,
    );
  });

  it('entra: the id from oid, the address from preferred_username, group object ids mapped to names, app roles', async () => {
    const groupMapFile = path.join(dir, 'entra-groups.yaml');
    fs.writeFileSync(
      groupMapFile,
      '# Entra object ids → policy group names\n' +
        '8d6e1d4a-8c5e-4c1f-9f57-6f3e2d0b9a11: engineering\n' +
        '0a5c3b2e-7f1d-4e8a-a6b9-2c4d5e6f7a8b: security\n',
    );
    const audience = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
    const accounts = [
      {
        id: 'alice',
        claims: {
          name: 'Alice Example',
          oid: '00000000-0000-0000-66f3-3332eca7ea81',
          // Pairwise subjects are base64url and may begin with "-" or "_".
          pairwiseSub: '-AbC_dEf1gHiJkLmNoPqRsTuVwXyZ0123456789ab',
          upn: 'alice@contoso.com',
          groups: ['8d6e1d4a-8c5e-4c1f-9f57-6f3e2d0b9a11', 'ffffffff-1111-2222-3333-444444444444'],
          roles: ['Latchkey.Auditor'],
        },
      },
      {
        id: 'bob',
        claims: {
          name: 'Bob Example',
          oid: '11111111-0000-0000-66f3-3332eca7ea82',
          pairwiseSub: '_XyZ0123456789abcdefghijklmnopqrstuvwxyzAB',
          upn: 'bob@contoso.com',
          overage: true,
        },
      },
    ];
    const { sut, provider } = await setUp(
      { shape: ENTRA, clientId: audience, audience, accounts },
      {
        LATCHKEY_AUTH_PROFILE: 'entra',
        LATCHKEY_AUTH_GROUP_MAP_FILE: groupMapFile,
        LATCHKEY_AUTH_ROLE_MAP: 'Latchkey.Admin=admin,Latchkey.Auditor=auditor',
      },
    );
    await expectProfile(
      sut,
      provider,
      'alice',
      {
        // The unmapped object id is dropped: a GUID never names a policy group.
        identity: { id: '00000000-0000-0000-66f3-3332eca7ea81', email: 'alice@contoso.com', groups: ['engineering'] },
        roles: ['auditor'],
      },
      /not an access token: expected typ at\+jwt or azpacr or appidacr/,
    );
    // Past 200 groups Entra sends a Graph reference instead: refused, and the log says why.
    expect(await rejection(sut, (await provider.signIn('bob')).accessToken)).toMatch(/groups overage/);

    // A pairwise subject used as the id becomes a digest: never a raw subject led by "-" in a query.
    const bySub = await TokenVerifier.fromConfig(
      parseOidcAuth(
        {
          LATCHKEY_AUTH_ISSUER: provider.issuer,
          LATCHKEY_AUTH_AUDIENCE: audience,
          LATCHKEY_AUTH_PROFILE: 'entra',
          LATCHKEY_AUTH_SUBJECT_CLAIMS: 'sub',
          LATCHKEY_AUTH_GROUP_MAP_FILE: groupMapFile,
        },
        3600,
      ),
      { startupWaitMs: 0 },
    );
    const caller = await bySub.verify((await provider.signIn('alice')).accessToken);
    expect(caller.identity.id).toMatch(/^~[a-z2-7]{26}$/);
  });

  it('auth0: namespaced custom claims, an issuer with a trailing slash, the API among two audiences', async () => {
    const { sut, provider } = await setUp(
      {
        shape: AUTH0,
        clientId: 'Xk2Fq9latchkeyPortal',
        audience: 'https://api.latchkey.example.com',
        issuerSuffix: '/',
        accounts: [
          {
            id: 'alice',
            claims: {
              sub: 'auth0|64f1c2d3e4f5a6b7c8d9e0f1',
              email: 'alice@example.com',
              groups: ['engineering'],
              roles: ['admin', 'billing-viewer'],
            },
          },
        ],
      },
      { LATCHKEY_AUTH_PROFILE: 'auth0', LATCHKEY_AUTH_CLAIM_NAMESPACE: AUTH0_NAMESPACE },
    );
    await expectProfile(
      sut,
      provider,
      'alice',
      {
        identity: { id: 'auth0|64f1c2d3e4f5a6b7c8d9e0f1', email: 'alice@example.com', groups: ['engineering'] },
        roles: ['admin'],
        emailVerified: true,
      },
      // Auth0's ID tokens are for the client, never for the API.
      /ERR_JWT_CLAIM_VALIDATION_FAILED/,
    );
  });

  it('keycloak: groups from full paths, realm and client roles, the Bearer/ID typ claim', async () => {
    const { sut, provider } = await setUp(
      {
        shape: KEYCLOAK,
        clientId: 'latchkey',
        audience: 'latchkey',
        accounts: [
          {
            id: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
            claims: {
              email: 'alice@example.com',
              groups: ['/engineering', '/security/incident-response', '/odd.name'],
              realmRoles: ['offline_access', 'uma_authorization', 'default-roles-acme', 'latchkey-admin'],
              clientRoles: ['auditor'],
            },
          },
        ],
      },
      { LATCHKEY_AUTH_PROFILE: 'keycloak', LATCHKEY_AUTH_ROLE_MAP: 'latchkey-admin=admin,auditor=auditor' },
    );
    await expectProfile(
      sut,
      provider,
      'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
      {
        identity: {
          id: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
          email: 'alice@example.com',
          // A segment with a dot of its own could be confused with a nested path: dropped.
          groups: ['engineering', 'security.incident-response'],
        },
        roles: ['auditor', 'admin'],
        emailVerified: true,
      },
      /not an access token: expected typ at\+jwt or typ=Bearer/,
    );
  });

  it('google-workspace: opaque access tokens through introspection, the hosted domain required', async () => {
    const { sut, provider } = await setUp(
      {
        shape: GOOGLE,
        clientId: 'latchkey-portal.apps.googleusercontent.test',
        audience: 'latchkey',
        accounts: [
          { id: '110169484474386276334', claims: { email: 'alice@example.com', hd: 'example.com' } },
          { id: '104927359123400000001', claims: { email: 'mallory@elsewhere.test', hd: 'elsewhere.test' } },
        ],
      },
      {
        LATCHKEY_AUTH_PROFILE: 'google-workspace',
        LATCHKEY_AUTH_INTROSPECTION_CLIENT_ID: INTROSPECTION_CLIENT.id,
        LATCHKEY_AUTH_INTROSPECTION_CLIENT_SECRET_FILE: introspectionSecretFile,
        LATCHKEY_AUTH_REQUIRE_CLAIMS: 'hd=example.com',
      },
    );
    await expectProfile(
      sut,
      provider,
      '110169484474386276334',
      {
        identity: { id: '110169484474386276334', email: 'alice@example.com', groups: [] },
        roles: [],
        emailVerified: true,
      },
      /a JWT, but this provider's access tokens are opaque/,
    );
    // Another Google account, outside the Workspace domain, signs in to the same client: refused.
    expect(await rejection(sut, (await provider.signIn('104927359123400000001')).accessToken)).toBe(
      'hd is not example.com',
    );
    // A token the provider never issued is not active.
    expect(await rejection(sut, 'ya29.a0AfB_byNeverIssued')).toBe('introspection: the token is not active');
  });

  it('generic: RFC 9068 access tokens with flat claims; an e-mail-shaped subject becomes a digest id', async () => {
    const { sut, provider } = await setUp(
      {
        shape: GENERIC,
        clientId: 'latchkey',
        audience: 'latchkey',
        accounts: [
          {
            id: 'alice@example.com',
            claims: { email: 'alice@example.com', email_verified: true, groups: ['engineering'], roles: ['admin'] },
          },
        ],
      },
      {},
    );
    const { accessToken } = await provider.signIn('alice@example.com');
    const caller = await sut.verify(accessToken);
    expect(caller).toEqual({
      identity: { id: expect.stringMatching(/^~[a-z2-7]{26}$/), email: 'alice@example.com', groups: ['engineering'] },
      roles: ['admin'],
      emailVerified: true,
    });
    // Stable: the same subject is the same id on every token.
    expect((await sut.verify((await provider.signIn('alice@example.com')).accessToken)).identity.id).toBe(
      caller.identity.id,
    );
    const { idToken } = await provider.signIn('alice@example.com');
    expect(await rejection(sut, idToken)).toBe('not an access token: expected typ at+jwt');
  });
});
