import type { TokenShape } from './openid-provider';

/**
 * What each provider puts in its tokens, from its own documentation of the access token and the ID
 * token (docs/identity.md links each page). The claims an administrator adds (a groups claim, an
 * audience mapper, an Auth0 Action) are those each provider's guide tells them to add.
 */

/** Okta custom authorization server: no `typ`, `sub` is the login, `uid` the user id, `scp` a list. */
export const OKTA: TokenShape = {
  accessTokenTyp: undefined,
  accessTokenFormat: 'jwt',
  accessTokenClaims: (account, issued) => ({
    ver: 1,
    aud: issued.aud,
    cid: 'latchkey-portal',
    uid: account.claims.uid,
    scp: ['openid', 'email', 'profile', 'latchkey'],
    auth_time: Math.floor(Date.now() / 1000),
    sub: account.claims.login,
    groups: account.claims.groups,
  }),
  idTokenClaims: (account) => ({
    ver: 1,
    email: account.claims.login,
    idp: '00o1idp',
    amr: ['pwd'],
    preferred_username: account.claims.login,
    groups: account.claims.groups,
  }),
};

/**
 * Entra ID v2.0 access token: `typ: JWT`, pairwise `sub`, the user in `oid`, no `email` (the address is
 * `preferred_username`), groups as object ids, app roles in `roles`, `azpacr` only in access tokens.
 */
export const ENTRA: TokenShape = {
  accessTokenTyp: 'JWT',
  accessTokenFormat: 'jwt',
  accessTokenClaims: (account, issued) => ({
    aud: issued.aud,
    nbf: Math.floor(Date.now() / 1000),
    aio: 'AWQAm/8TAAAA',
    azp: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c',
    azpacr: '1',
    name: account.claims.name,
    oid: account.claims.oid,
    preferred_username: account.claims.upn,
    rh: '0.AAAA',
    scp: 'access_as_user',
    sub: account.claims.pairwiseSub,
    tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    uti: 'fqiBqXLPj0eQa82S-IYFAA',
    ver: '2.0',
    ...(account.claims.overage
      ? {
          _claim_names: { groups: 'src1' },
          _claim_sources: {
            src1: { endpoint: `https://graph.microsoft.com/v1.0/users/${String(account.claims.oid)}/getMemberObjects` },
          },
        }
      : { groups: account.claims.groups }),
    ...(account.claims.roles ? { roles: account.claims.roles } : {}),
  }),
  idTokenClaims: (account) => ({
    name: account.claims.name,
    oid: account.claims.oid,
    preferred_username: account.claims.upn,
    tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    ver: '2.0',
    aio: 'AWQAm/8TAAAA',
    rh: '0.AAAA',
    uti: 'fqiBqXLPj0eQa82S-IYFAA',
    groups: account.claims.groups,
    ...(account.claims.roles ? { roles: account.claims.roles } : {}),
  }),
};

/** The namespace an Auth0 Action gives latchkey's custom claims. */
export const AUTH0_NAMESPACE = 'https://latchkey.example.com/';

/**
 * Auth0: `typ: JWT`, `sub` such as `auth0|…`, the API and `/userinfo` as audiences, `scope` a string,
 * custom claims under a namespace (an Action adds them; Auth0 drops plain ones from access tokens).
 */
export const AUTH0: TokenShape = {
  accessTokenTyp: 'JWT',
  accessTokenFormat: 'jwt',
  accessTokenClaims: (account, issued) => ({
    sub: account.claims.sub,
    aud: [issued.aud, 'https://tenant.auth0.test/userinfo'].flat(),
    azp: 'latchkey-portal',
    scope: 'openid profile email',
    [`${AUTH0_NAMESPACE}email`]: account.claims.email,
    [`${AUTH0_NAMESPACE}email_verified`]: true,
    [`${AUTH0_NAMESPACE}groups`]: account.claims.groups,
    [`${AUTH0_NAMESPACE}roles`]: account.claims.roles,
  }),
  idTokenClaims: (account) => ({
    nickname: 'alice',
    name: account.claims.email,
    picture: 'https://s.gravatar.com/avatar/0.png',
    updated_at: '2026-11-01T09:00:00.000Z',
    email: account.claims.email,
    email_verified: true,
    sid: 'vBg6Uf4qmQgNe2gTMhgZnS6sC2mDa8Bc',
  }),
};

/**
 * Keycloak: `typ: JWT` in the header and `typ: Bearer` in the access token (`ID` in the ID token), realm
 * and client roles nested, groups as full paths (the group membership mapper's default).
 */
export const KEYCLOAK: TokenShape = {
  accessTokenTyp: 'JWT',
  accessTokenFormat: 'jwt',
  accessTokenClaims: (account, issued) => ({
    auth_time: Math.floor(Date.now() / 1000),
    aud: [issued.aud, 'account'].flat(),
    sub: account.id,
    typ: 'Bearer',
    azp: 'latchkey-portal',
    sid: '2b5f1c9e-0d6c-4a3e-9d6b-0c6f1e2d3a4b',
    acr: '1',
    'allowed-origins': ['https://portal.latchkey.test'],
    realm_access: { roles: account.claims.realmRoles },
    resource_access: {
      latchkey: { roles: account.claims.clientRoles },
      account: { roles: ['manage-account', 'view-profile'] },
    },
    scope: 'openid email profile',
    email_verified: true,
    name: 'Alice Example',
    preferred_username: 'alice',
    email: account.claims.email,
    groups: account.claims.groups,
  }),
  idTokenClaims: (account) => ({
    typ: 'ID',
    azp: 'latchkey',
    sid: '2b5f1c9e-0d6c-4a3e-9d6b-0c6f1e2d3a4b',
    email_verified: true,
    preferred_username: 'alice',
    email: account.claims.email,
    groups: account.claims.groups,
  }),
};

/** Google: access tokens are opaque (only the provider can say what they mean); ID tokens are JWTs. */
export const GOOGLE: TokenShape = {
  accessTokenTyp: undefined,
  accessTokenFormat: 'opaque',
  accessTokenClaims: (account) => ({
    email: account.claims.email,
    email_verified: true,
    hd: account.claims.hd,
  }),
  idTokenClaims: (account) => ({
    azp: 'latchkey-portal.apps.googleusercontent.test',
    email: account.claims.email,
    email_verified: true,
    hd: account.claims.hd,
    at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q',
  }),
};

/** oidc-provider's own RFC 9068 access tokens, with flat claims: what the `generic` profile reads. */
export const GENERIC: TokenShape = {
  accessTokenTyp: 'at+jwt',
  accessTokenFormat: 'jwt',
  accessTokenClaims: (account, issued) => ({
    sub: issued.sub,
    aud: issued.aud,
    client_id: 'latchkey',
    scope: issued.scope,
    ...account.claims,
  }),
  idTokenClaims: (account) => ({ ...account.claims }),
};
