import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Role } from '../contracts/identity';
import { ConfigError, oneOf, required, seconds, url } from './env-values';

/**
 * Where an OpenID provider puts who someone is. Each provider names and nests these differently
 * (docs/identity.md); a profile sets the defaults for one, and each setting can be overridden.
 */
export const IDENTITY_PROFILES = ['generic', 'okta', 'entra', 'auth0', 'keycloak', 'google-workspace'] as const;
export type IdentityProfile = (typeof IDENTITY_PROFILES)[number];

/**
 * A claim is named by its path: `groups`, `realm_access.roles`, or a namespaced claim such as
 * `https://example.com/groups` (a key that contains dots is matched whole before it is split).
 */
export interface ClaimMapping {
  /** Tried in order; the first present is the subject. */
  subject: string[];
  /** Tried in order; the first present is the e-mail address. */
  email: string[];
  /** Tried in order; the first present must be the boolean `true` for the address to count as verified. */
  emailVerified: string[];
  /** Every listed claim that is present adds its groups. */
  groups: string[];
  /** Every listed claim that is present adds its roles, translated by `roleMap`. */
  roles: string[];
  /** A provider's group value (an Entra object id, a Keycloak path) → the group name the policy uses. */
  groupMap: Record<string, string>;
  /** Group values `groupMap` does not name: kept as they are, or dropped. */
  unmappedGroups: 'keep' | 'drop';
  /** Keycloak sends full paths (`/engineering/platform`); `keycloak` reads them as `engineering.platform`. */
  groupPaths: 'as-is' | 'keycloak';
  /** A provider's role value → the latchkey role it grants; values not listed grant nothing. */
  roleMap: Record<string, Role>;
  /** A token with none of the group claims: refused (the reason is logged), or accepted with no groups. */
  missingGroups: 'refuse' | 'empty';
  /** Claims that must have exactly this value, e.g. Google's hosted domain `hd`. */
  requiredValues: Array<{ claim: string; value: string }>;
}

/** A claim that only the provider's access tokens carry (with this value, if one is given). */
export interface AccessTokenMark {
  claim: string;
  value?: string;
}

export interface OidcAuthConfig {
  mode: 'oidc';
  profile: IdentityProfile;
  /** As configured; discovery gives the exact string tokens carry (a trailing slash may differ). */
  issuer: string;
  audience: string;
  maxTokenAgeSeconds: number;
  /** Overrides the `jwks_uri` of the discovery document. */
  jwksUrl?: string;
  /** `jwt` tokens are verified with the provider's keys, `opaque` ones through introspection (RFC 7662). */
  tokenFormat: 'jwt' | 'opaque' | 'jwt-or-opaque';
  /**
   * A JWT whose header says `typ: at+jwt` (RFC 9068) is an access token. Providers that do not set it are
   * told apart by a claim their ID tokens lack; a token with none of these marks is refused.
   */
  accessTokenMarks: AccessTokenMark[];
  /** How latchkey authenticates to the introspection endpoint (client_secret_basic). */
  introspection?: { url?: string; clientId: string; clientSecretFile: string };
  claims: ClaimMapping;
}

/** Flat claims, as latchkey's own local tokens carry them. */
export const GENERIC_CLAIMS: ClaimMapping = {
  subject: ['sub'],
  email: ['email'],
  emailVerified: ['email_verified'],
  groups: ['groups'],
  roles: ['roles'],
  groupMap: {},
  unmappedGroups: 'keep',
  groupPaths: 'as-is',
  roleMap: { admin: 'admin', auditor: 'auditor' },
  missingGroups: 'empty',
  requiredValues: [],
};

interface ProfileDefaults {
  tokenFormat: OidcAuthConfig['tokenFormat'];
  accessTokenMarks: AccessTokenMark[];
  claims: ClaimMapping;
}

/**
 * The defaults of each profile, from how each provider documents its access tokens. `namespace` is
 * Auth0's custom-claim prefix; `audience` names Keycloak's client roles.
 */
function profileDefaults(profile: IdentityProfile, audience: string, namespace: string | undefined): ProfileDefaults {
  const refuseWithoutGroups = { ...GENERIC_CLAIMS, missingGroups: 'refuse' as const };
  switch (profile) {
    case 'generic':
      return { tokenFormat: 'jwt', accessTokenMarks: [], claims: GENERIC_CLAIMS };
    case 'okta':
      // The access token's `sub` is the login (often an e-mail address); `uid` is the user's id.
      return {
        tokenFormat: 'jwt',
        accessTokenMarks: [{ claim: 'scp' }],
        claims: { ...refuseWithoutGroups, subject: ['uid', 'sub'], email: ['email', 'sub'] },
      };
    case 'entra':
      // v2.0 tokens: `oid` is the user across every app (`sub` is pairwise), groups are object ids.
      return {
        tokenFormat: 'jwt',
        accessTokenMarks: [{ claim: 'azpacr' }, { claim: 'appidacr' }],
        claims: {
          ...refuseWithoutGroups,
          subject: ['oid', 'sub'],
          email: ['email', 'preferred_username', 'upn'],
          emailVerified: ['xms_edov'],
          unmappedGroups: 'drop',
        },
      };
    case 'auth0': {
      if (!namespace) {
        throw new ConfigError(
          'LATCHKEY_AUTH_CLAIM_NAMESPACE is required with LATCHKEY_AUTH_PROFILE=auth0: the prefix your Auth0 Action ' +
            'gives its custom claims, e.g. https://latchkey.example.com/',
        );
      }
      return {
        tokenFormat: 'jwt',
        accessTokenMarks: [{ claim: 'scope' }],
        claims: {
          ...refuseWithoutGroups,
          email: [`${namespace}email`, 'email'],
          emailVerified: [`${namespace}email_verified`, 'email_verified'],
          groups: [`${namespace}groups`],
          roles: [`${namespace}roles`],
        },
      };
    }
    case 'keycloak':
      // Keycloak's own `typ` claim is `Bearer` in access tokens and `ID` in ID tokens.
      return {
        tokenFormat: 'jwt',
        accessTokenMarks: [{ claim: 'typ', value: 'Bearer' }],
        claims: {
          ...refuseWithoutGroups,
          groupPaths: 'keycloak',
          roles: ['realm_access.roles', `resource_access.${audience}.roles`],
        },
      };
    case 'google-workspace':
      // Google's access tokens are opaque, and carry no group membership.
      return { tokenFormat: 'opaque', accessTokenMarks: [], claims: GENERIC_CLAIMS };
  }
}

/** `LATCHKEY_AUTH_MODE=oidc`: the provider, the claim mapping and how tokens are checked. */
export function parseOidcAuth(env: NodeJS.ProcessEnv, maxTokenAgeSeconds: number): OidcAuthConfig {
  const issuer = required(env, 'LATCHKEY_AUTH_ISSUER', 'when LATCHKEY_AUTH_MODE=oidc');
  const audience = required(env, 'LATCHKEY_AUTH_AUDIENCE', 'when LATCHKEY_AUTH_MODE=oidc');
  if (!/^https?:\/\//.test(issuer)) throw new ConfigError('LATCHKEY_AUTH_ISSUER must be an http(s) URL');
  const profile = oneOf(env, 'LATCHKEY_AUTH_PROFILE', IDENTITY_PROFILES, 'generic');
  const defaults = profileDefaults(profile, audience, env.LATCHKEY_AUTH_CLAIM_NAMESPACE || undefined);
  const tokenFormat = oneOf(
    env,
    'LATCHKEY_AUTH_TOKEN_FORMAT',
    ['jwt', 'opaque', 'jwt-or-opaque'] as const,
    defaults.tokenFormat,
  );
  const introspection = introspectionClient(env);
  if (tokenFormat !== 'jwt' && !introspection) {
    throw new ConfigError(
      `opaque tokens (LATCHKEY_AUTH_TOKEN_FORMAT=${tokenFormat}${profile === 'google-workspace' ? ', the google-workspace profile' : ''}) ` +
        'are verified through introspection: set LATCHKEY_AUTH_INTROSPECTION_CLIENT_ID and LATCHKEY_AUTH_INTROSPECTION_CLIENT_SECRET_FILE',
    );
  }
  const claims = defaults.claims;
  return {
    mode: 'oidc',
    profile,
    issuer,
    audience,
    maxTokenAgeSeconds,
    jwksUrl: url(env, 'LATCHKEY_AUTH_JWKS_URL'),
    tokenFormat,
    accessTokenMarks: env.LATCHKEY_AUTH_ACCESS_TOKEN_CLAIMS
      ? claimValues(env, 'LATCHKEY_AUTH_ACCESS_TOKEN_CLAIMS', true).map(({ claim, value }) => ({ claim, value }))
      : defaults.accessTokenMarks,
    introspection,
    claims: {
      subject: list(env, 'LATCHKEY_AUTH_SUBJECT_CLAIMS') ?? claims.subject,
      email: list(env, 'LATCHKEY_AUTH_EMAIL_CLAIMS') ?? claims.email,
      emailVerified: list(env, 'LATCHKEY_AUTH_EMAIL_VERIFIED_CLAIMS') ?? claims.emailVerified,
      groups: list(env, 'LATCHKEY_AUTH_GROUPS_CLAIMS') ?? claims.groups,
      roles: list(env, 'LATCHKEY_AUTH_ROLES_CLAIMS') ?? claims.roles,
      groupMap: groupMapFile(env) ?? claims.groupMap,
      unmappedGroups: oneOf(env, 'LATCHKEY_AUTH_UNMAPPED_GROUPS', ['keep', 'drop'] as const, claims.unmappedGroups),
      groupPaths: oneOf(env, 'LATCHKEY_AUTH_GROUP_PATHS', ['as-is', 'keycloak'] as const, claims.groupPaths),
      roleMap: roleMap(env) ?? claims.roleMap,
      missingGroups: oneOf(env, 'LATCHKEY_AUTH_MISSING_GROUPS', ['refuse', 'empty'] as const, claims.missingGroups),
      requiredValues: env.LATCHKEY_AUTH_REQUIRE_CLAIMS
        ? claimValues(env, 'LATCHKEY_AUTH_REQUIRE_CLAIMS', false).map(({ claim, value }) => ({
            claim,
            value: value!,
          }))
        : claims.requiredValues,
    },
  };
}

/** The token age limit shared by both modes, so its parsing lives with them. */
export function maxTokenAge(env: NodeJS.ProcessEnv): number {
  return seconds(env, 'LATCHKEY_AUTH_MAX_TOKEN_AGE', 'PT24H', 60, 30 * 86_400);
}

function introspectionClient(env: NodeJS.ProcessEnv): OidcAuthConfig['introspection'] {
  const clientId = env.LATCHKEY_AUTH_INTROSPECTION_CLIENT_ID;
  const secretFile = env.LATCHKEY_AUTH_INTROSPECTION_CLIENT_SECRET_FILE;
  if (!clientId && !secretFile) {
    if (env.LATCHKEY_AUTH_INTROSPECTION_URL) {
      throw new ConfigError(
        'LATCHKEY_AUTH_INTROSPECTION_URL needs LATCHKEY_AUTH_INTROSPECTION_CLIENT_ID and _SECRET_FILE',
      );
    }
    return undefined;
  }
  if (!clientId || !secretFile) {
    throw new ConfigError(
      'LATCHKEY_AUTH_INTROSPECTION_CLIENT_ID and LATCHKEY_AUTH_INTROSPECTION_CLIENT_SECRET_FILE go together',
    );
  }
  return {
    url: url(env, 'LATCHKEY_AUTH_INTROSPECTION_URL'),
    clientId,
    clientSecretFile: path.resolve(secretFile),
  };
}

const CLAIM_PATH = /^[^\s,=]{1,200}$/;

/** A comma-separated list of claim paths; undefined when the variable is not set. */
function list(env: NodeJS.ProcessEnv, key: string): string[] | undefined {
  const raw = env[key];
  if (!raw) return undefined;
  const paths = raw.split(',').map((entry) => entry.trim());
  const bad = paths.find((entry) => !CLAIM_PATH.test(entry));
  if (bad !== undefined) throw new ConfigError(`${key} must be a comma-separated list of claim names, got "${bad}"`);
  return paths;
}

/** `claim=value,claim2`: the value may be optional (access-token marks) or required (required claims). */
function claimValues(
  env: NodeJS.ProcessEnv,
  key: string,
  valueOptional: boolean,
): Array<{ claim: string; value?: string }> {
  return (env[key] ?? '').split(',').map((entry) => {
    const at = entry.indexOf('=');
    const claim = (at < 0 ? entry : entry.slice(0, at)).trim();
    const value = at < 0 ? undefined : entry.slice(at + 1).trim();
    if (!CLAIM_PATH.test(claim) || (value === undefined && !valueOptional) || value === '') {
      throw new ConfigError(
        `${key} must be a comma-separated list of claim${valueOptional ? '[=value]' : '=value'}, got "${entry}"`,
      );
    }
    return { claim, value };
  });
}

/** `ProviderRole=admin,Auditors=auditor`: which provider role values grant latchkey's roles. */
function roleMap(env: NodeJS.ProcessEnv): Record<string, Role> | undefined {
  if (!env.LATCHKEY_AUTH_ROLE_MAP) return undefined;
  const map: Record<string, Role> = {};
  for (const { claim, value } of claimValues(env, 'LATCHKEY_AUTH_ROLE_MAP', false)) {
    if (value !== 'admin' && value !== 'auditor') {
      throw new ConfigError(`LATCHKEY_AUTH_ROLE_MAP maps "${claim}" to "${value}": a role is admin or auditor`);
    }
    map[claim] = value;
  }
  return map;
}

/** A YAML or JSON file of `provider value: policy group name`, e.g. Entra object ids to names. */
function groupMapFile(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const file = env.LATCHKEY_AUTH_GROUP_MAP_FILE;
  if (!file) return undefined;
  let parsed: unknown;
  try {
    parsed = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`LATCHKEY_AUTH_GROUP_MAP_FILE (${file}) cannot be read: ${reason}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`LATCHKEY_AUTH_GROUP_MAP_FILE (${file}) must map provider group values to group names`);
  }
  const map: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [from, to] of Object.entries(parsed)) {
    if (typeof to !== 'string' || !to) {
      throw new ConfigError(`LATCHKEY_AUTH_GROUP_MAP_FILE (${file}): "${from}" must map to a group name`);
    }
    map[from] = to;
  }
  return map;
}
