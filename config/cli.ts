import { ConfigError } from './env-values';

/**
 * How the requester's CLI signs in at an OpenID provider (`latchkey login` in oidc mode, the device flow of
 * RFC 8628). The issuer and the API's audience are `config.auth`'s; these are the CLI's own.
 */
export interface CliSignInSettings {
  /** `LATCHKEY_CLI_CLIENT_ID`: the CLI's public client at the provider (device flow allowed, no secret). */
  clientId?: string;
  /** `LATCHKEY_CLI_SCOPE`: the scopes asked for; `openid email profile` unless set. */
  scope: string;
  /**
   * `LATCHKEY_CLI_RESOURCE`: an RFC 8707 resource indicator, for providers that issue access tokens for an API
   * only when it is named (oidc-provider, Keycloak with resource indicators); unset: none is sent.
   */
  resource?: string;
}

const CLIENT_ID = /^[\x21-\x7e]{1,255}$/;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

export function loadCliSignInSettings(env: NodeJS.ProcessEnv = process.env): CliSignInSettings {
  return {
    clientId: clientIdSetting(env, 'LATCHKEY_CLI_CLIENT_ID'),
    scope: scopeSetting(env, 'LATCHKEY_CLI_SCOPE'),
    resource: resourceIndicator(env, 'LATCHKEY_CLI_RESOURCE'),
  };
}

/** An OAuth client id (the CLI's, the portal's): printable characters, no spaces; undefined when unset. */
export function clientIdSetting(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const clientId = env[key] || undefined;
  if (clientId !== undefined && !CLIENT_ID.test(clientId)) {
    throw new ConfigError(`${key} must be a client id: printable characters, no spaces`);
  }
  return clientId;
}

/** Scopes separated by single spaces; `openid email profile` unless set. */
export function scopeSetting(env: NodeJS.ProcessEnv, key: string): string {
  const scope = env[key] || 'openid email profile';
  if (!SCOPE.test(scope)) {
    throw new ConfigError(`${key} must be scopes separated by single spaces, got "${scope}"`);
  }
  return scope;
}

/** RFC 8707 §2: an absolute URI without a fragment. */
export function resourceIndicator(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const raw = env[key];
  if (!raw) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${key} must be an absolute URI such as https://latchkey.example.com/api`);
  }
  if (parsed.hash) throw new ConfigError(`${key} must not have a fragment (#…)`);
  return raw;
}
