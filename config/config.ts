import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_NAMESPACE, TASK_QUEUE } from '../contracts/task-queue';
import { ConfigError, durationOrOff, int, oneOf, url } from './env-values';
import { maxTokenAge, type OidcAuthConfig, parseOidcAuth } from './identity';
import { clientIdSetting, resourceIndicator, scopeSetting } from './cli';

/**
 * Configuration, parsed and validated once at start into typed objects. Nothing else in latchkey
 * reads `process.env`: every process calls `loadConfig()` and passes the parts down.
 */
export interface LatchkeyConfig {
  /** Folder for local state: the dev server's database, the local 1Password, generated keys. */
  dataDir: string;
  policyFile: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    /** Web UI port of the dev server that `npm start` runs. */
    devUiPort: number;
    /** mTLS to the Temporal frontend (the compose deployment requires it); unset: plaintext, as the dev server speaks. */
    tls?: TemporalTlsConfig;
  };
  /** The demo PostgreSQL that `npm start` runs (state in `<dataDir>/postgres`): the demo policy's target `demo-db`. */
  demoDatabase: { port: number };
  api: {
    host: string;
    port: number;
    /** Public base URL used in Location headers and printed links. */
    publicUrl: string;
    bodyLimitBytes: number;
    /** Origins allowed to call the codec endpoint from a browser (the Temporal UI). */
    codecCorsOrigins: string[];
    /** Body limit of the codec endpoint only: the Temporal UI sends many payloads at once. */
    codecBodyLimitBytes: number;
    /** How long the API reuses the resource catalog it read from the worker's catalog workflow. */
    catalogCacheMs: number;
    /** On shutdown, how long requests in flight may take to finish before connections are cut. */
    shutdownGraceMs: number;
    /** Slow or idle clients must not hold sockets: each limit, in milliseconds (Fastify and Node's server). */
    timeouts: {
      /** A connection that sends nothing for this long is closed (Fastify `connectionTimeout`). */
      connectionMs: number;
      /** A whole request, body included, must arrive within this (Node `requestTimeout`). */
      requestMs: number;
      /** The request's headers must arrive within this (Node `headersTimeout`; at most `requestMs`). */
      headersMs: number;
      /** An idle keep-alive connection is closed after this (Node `keepAliveTimeout`). */
      keepAliveMs: number;
    };
    /**
     * Requests per minute per caller on every route (apps/api/http/rate-limit.ts); undefined: no limit
     * (`LATCHKEY_API_RATE_LIMIT_PER_MINUTE=off`, for benchmarks that measure the API, not the limiter).
     */
    rateLimit?: {
      /** Per verified caller (the token's `sub`), whatever address they call from. */
      perMinute: number;
      /** Per client address, for requests without a valid token. */
      anonymousPerMinute: number;
      /** Per client address, for `/healthz` and `/readyz` only: orchestrators poll them, apart from the rest. */
      probesPerMinute: number;
    };
  };
  /** `maxTokenAgeSeconds`: a token whose `iat` is older is refused, whatever its `exp` says. */
  auth:
    | {
        mode: 'local';
        /** The private ES256 JWK: read only by whatever mints tokens (`latchkey token`, `npm start`). */
        signingKeyFile: string;
        /** Its public half, written beside it on creation: all the API reads to verify tokens. */
        publicKeyFile: string;
        issuer: string;
        audience: string;
        maxTokenAgeSeconds: number;
      }
    | OidcAuthConfig;
  /** Signed commands (trust/command.ts): the API's private key and the public keys the workers trust. */
  commands: {
    /** The API's Ed25519 private JWK; `npm start` makes it on first run (and adds its public half to the trusted set). */
    signingKeyFile: string;
    /** The workers' trusted public keys, a JWK Set: rotating is adding the new key here first (docs/security.md). */
    trustedKeysFile: string;
  };
  codec: {
    /** File holding the payload encryption key (created on first run in local mode). */
    keyFile: string;
    /** Key id written into each encrypted payload, so keys can be rotated. */
    keyId: string;
    /** Keys of a rotation, only ever decrypted with (docs/security.md, "Rotating the payload key"). */
    decodeKeys: Array<{ id: string; file: string }>;
  };
  audit: {
    /** Ed25519 key (JWK, private) that signs the head of `latchkey audit export` (created on first use in local mode). */
    signingKeyFile: string;
  };
  localOnePassword: {
    stateFile: string;
  };
  worker: {
    metricsPort: number;
    /**
     * Workflows the worker keeps in memory between their tasks. One evicted is replayed from its history at its
     * next task (an approval, a timer, a read): a few milliseconds; without a bound the SDK keeps thousands
     * (a share of the heap), and memory grows with the requests open.
     */
    maxCachedWorkflows: number;
    /** Prebuilt workflow bundle (the production image makes one); unset: bundle `workflows/` at start. */
    workflowBundle?: string;
    /** At start, an integration whose service account cannot work: refuse to start, or only warn. */
    onePasswordCheck: 'refuse' | 'warn';
    /**
     * The key of messages between the workers' workflows and activities (vault leases), 32 bytes in base64: only
     * workers hold it, and all of them the same. Made on first use when absent. Changing it drops lease messages
     * in flight and breaks replay of open leases: it is not rotated while leases are open (docs/security.md).
     */
    internalKeyFile: string;
    /**
     * `LATCHKEY_RATE_BUDGET_DATABASE_URL_FILE`: a file holding the URL of a PostgreSQL database where the workers
     * count their 1Password requests together, so that the rate budgets hold however many workers run, on
     * however many hosts. Unset: each worker counts its own, which is right for one worker only.
     */
    rateBudgetDatabaseUrlFile?: string;
  };
  reconcile: {
    /** How often the reconciler compares 1Password with the grants; unset: never (the schedule is removed). */
    everyMs?: number;
  };
  /**
   * The people file (config/directory.ts): whom a notification to a group reaches, and who a Slack click is.
   * Defaults to the demo people (config/people.yaml) in local auth mode; unset otherwise.
   */
  directoryFile?: string;
  notify: {
    /** Where notifications are POSTed as JSON (besides e-mail and Slack). */
    webhookUrl?: string;
    /** File holding a bearer token for the webhook receiver. */
    webhookTokenFile?: string;
    /** E-mail over SMTP (`smtp://` or `smtps://`, credentials in the URL or the file below); unset: no e-mail. */
    email?: { smtpUrl: string; from: string; passwordFile?: string };
    /** Slack through its Web API with a bot token (`xoxb-…`, from a file); unset: no Slack. */
    slack?: { botTokenFile: string; apiUrl?: string };
  };
  /**
   * Slack's interactive requests (Approve and Reject buttons) to the API: checked with the app's signing secret.
   * `responseOrigin`: the only origin whose response URLs the API answers a clicker through (Slack's own).
   */
  slackInteractions?: { signingSecretFile: string; responseOrigin: string };
  /** The requester's CLI (`latchkey login`, `request`, …): which API it calls and where it keeps its sign-in. */
  cli: { apiUrl: string; sessionFile: string };
  /**
   * The web portal's sign-in in oidc mode (apps/api/portal): its client at the provider, which redirects back to
   * `<publicUrl>/portal/auth/callback`. Without `clientId` the portal cannot sign anyone in (local mode needs none).
   */
  portal: PortalSignInConfig;
}

export interface PortalSignInConfig {
  /** `LATCHKEY_PORTAL_CLIENT_ID`: the portal's client (authorization code with PKCE). */
  clientId?: string;
  /** `LATCHKEY_PORTAL_CLIENT_SECRET_FILE`: a confidential client (client_secret_basic); unset: a public client. */
  clientSecretFile?: string;
  /** `LATCHKEY_PORTAL_SCOPE`: `openid email profile` unless set. */
  scope: string;
  /** `LATCHKEY_PORTAL_RESOURCE`: an RFC 8707 resource indicator for providers that need the API named. */
  resource?: string;
}

/** The files a Temporal client presents and trusts for mTLS; `serverName` overrides the name checked in the server's certificate. */
export interface TemporalTlsConfig {
  caFile: string;
  certFile: string;
  keyFile: string;
  serverName?: string;
}

/** Nearest folder with a package.json: the repository, whether running from source or from dist/. */
function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

const REPO_ROOT = findRepoRoot(__dirname);

/** Measured in docs/benchmarks.md ("Bounding the worker's workflow cache", then issue 19's goals of 2026-12-01). */
const DEFAULT_MAX_CACHED_WORKFLOWS = 150;

/** `id=/path/to/key,id2=/path/to/key2`: the payload keys a process decrypts with but never encrypts with. */
function codecDecodeKeys(env: NodeJS.ProcessEnv, key: string): Array<{ id: string; file: string }> {
  const raw = env[key];
  if (!raw) return [];
  return raw.split(',').map((entry) => {
    const at = entry.indexOf('=');
    const [id, file] = [entry.slice(0, at).trim(), entry.slice(at + 1).trim()];
    if (at < 1 || !/^[A-Za-z0-9._-]{1,64}$/.test(id) || !file) {
      throw new ConfigError(`${key} must be a comma-separated list of id=/path/to/key, got "${entry}"`);
    }
    return { id, file: path.resolve(file) };
  });
}

/**
 * mTLS to Temporal: the CA, certificate and key are given together or not at all, so a deployment that meant
 * to use mTLS never falls back to plaintext because one variable was misspelt.
 */
function temporalTls(env: NodeJS.ProcessEnv): TemporalTlsConfig | undefined {
  const files = {
    caFile: 'TEMPORAL_TLS_CA_FILE',
    certFile: 'TEMPORAL_TLS_CERT_FILE',
    keyFile: 'TEMPORAL_TLS_KEY_FILE',
  } as const;
  const given = Object.values(files).filter((key) => env[key]);
  if (given.length === 0) {
    if (env.TEMPORAL_TLS_SERVER_NAME) {
      throw new ConfigError(
        'TEMPORAL_TLS_SERVER_NAME needs TEMPORAL_TLS_CA_FILE, TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE',
      );
    }
    return undefined;
  }
  if (given.length < 3) {
    const missing = Object.values(files).filter((key) => !env[key]);
    throw new ConfigError(
      `mTLS to Temporal needs TEMPORAL_TLS_CA_FILE, TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE together; missing ${missing.join(', ')}`,
    );
  }
  return {
    caFile: path.resolve(env[files.caFile]!),
    certFile: path.resolve(env[files.certFile]!),
    keyFile: path.resolve(env[files.keyFile]!),
    serverName: env.TEMPORAL_TLS_SERVER_NAME || undefined,
  };
}

/** Where the public half of a local signing key is written by default: beside it, `<name>.public.jwk.json`. */
export function localPublicKeyFileBeside(signingKeyFile: string): string {
  const base = path.basename(signingKeyFile).replace(/(\.jwk)?\.json$/, '');
  return path.join(path.dirname(signingKeyFile), `${base}.public.jwk.json`);
}

/**
 * Local auth trusts a key file on the API's disk and a command that mints any identity: a production process
 * refuses it unless the operator says, in so many words, that this is what they want.
 */
function refuseLocalAuthInProduction(env: NodeJS.ProcessEnv, authMode: 'local' | 'oidc'): void {
  if (authMode !== 'local' || env.NODE_ENV !== 'production') return;
  const allow = oneOf(env, 'LATCHKEY_ALLOW_LOCAL_AUTH_IN_PRODUCTION', ['true', 'false'] as const, 'false');
  if (allow === 'true') return;
  throw new ConfigError(
    'LATCHKEY_AUTH_MODE is local (the default) and NODE_ENV=production: set LATCHKEY_AUTH_MODE=oidc with your ' +
      'identity provider, or LATCHKEY_ALLOW_LOCAL_AUTH_IN_PRODUCTION=true if local tokens are really meant',
  );
}

/** The repository root, for defaults that point at files shipped with latchkey. */
export function repoRoot(): string {
  return REPO_ROOT;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): LatchkeyConfig {
  const dataDir = path.resolve(env.LATCHKEY_DATA_DIR || path.join(REPO_ROOT, 'data'));
  const port = int(env, 'LATCHKEY_API_PORT', 3000, 1, 65535);
  const host = env.LATCHKEY_API_HOST || '127.0.0.1';
  const authMode = oneOf(env, 'LATCHKEY_AUTH_MODE', ['local', 'oidc'] as const, 'local');
  const audience = env.LATCHKEY_AUTH_AUDIENCE || 'latchkey';
  const devUiPort = int(env, 'LATCHKEY_TEMPORAL_UI_PORT', 8233, 1, 65535);
  refuseLocalAuthInProduction(env, authMode);
  const signingKeyFile = path.resolve(
    env.LATCHKEY_AUTH_LOCAL_KEY_FILE || path.join(dataDir, 'keys', 'token-signing.jwk.json'),
  );
  const maxTokenAgeSeconds = maxTokenAge(env);

  return {
    dataDir,
    policyFile: path.resolve(env.LATCHKEY_POLICY_FILE || path.join(REPO_ROOT, 'config', 'policy.yaml')),
    logLevel: oneOf(env, 'LATCHKEY_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    temporal: {
      address: env.TEMPORAL_ADDRESS || 'localhost:7233',
      namespace: env.TEMPORAL_NAMESPACE || DEFAULT_NAMESPACE,
      taskQueue: env.LATCHKEY_TASK_QUEUE || TASK_QUEUE,
      devUiPort,
      tls: temporalTls(env),
    },
    demoDatabase: { port: int(env, 'LATCHKEY_DEMO_DB_PORT', 5433, 1, 65535) },
    api: {
      host,
      port,
      publicUrl: (env.LATCHKEY_PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, ''),
      bodyLimitBytes: int(env, 'LATCHKEY_API_BODY_LIMIT_BYTES', 16 * 1024, 1024, 1024 * 1024),
      codecCorsOrigins: (
        env.LATCHKEY_CODEC_CORS_ORIGINS || `http://localhost:${devUiPort},http://127.0.0.1:${devUiPort}`
      )
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
      codecBodyLimitBytes: int(env, 'LATCHKEY_API_CODEC_BODY_LIMIT_BYTES', 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
      catalogCacheMs: int(env, 'LATCHKEY_API_CATALOG_CACHE_MS', 10_000, 0, 600_000),
      shutdownGraceMs: int(env, 'LATCHKEY_API_SHUTDOWN_GRACE_MS', 10_000, 0, 120_000),
      timeouts: apiTimeouts(env),
      rateLimit: apiRateLimit(env),
    },
    auth:
      authMode === 'local'
        ? {
            mode: 'local',
            signingKeyFile,
            publicKeyFile: path.resolve(
              env.LATCHKEY_AUTH_LOCAL_PUBLIC_KEY_FILE || localPublicKeyFileBeside(signingKeyFile),
            ),
            issuer: env.LATCHKEY_AUTH_ISSUER || 'latchkey-local',
            audience,
            maxTokenAgeSeconds,
          }
        : parseOidcAuth(env, maxTokenAgeSeconds),
    commands: {
      signingKeyFile: path.resolve(
        env.LATCHKEY_COMMAND_SIGNING_KEY_FILE || path.join(dataDir, 'keys', 'command-signing.jwk.json'),
      ),
      trustedKeysFile: path.resolve(
        env.LATCHKEY_COMMAND_TRUSTED_KEYS_FILE || path.join(dataDir, 'keys', 'command-trusted.jwks.json'),
      ),
    },
    codec: {
      keyFile: path.resolve(env.LATCHKEY_CODEC_KEY_FILE || path.join(dataDir, 'keys', 'payload-codec.key')),
      keyId: env.LATCHKEY_CODEC_KEY_ID || 'local-1',
      decodeKeys: codecDecodeKeys(env, 'LATCHKEY_CODEC_DECODE_KEYS'),
    },
    audit: {
      signingKeyFile: path.resolve(
        env.LATCHKEY_AUDIT_SIGNING_KEY_FILE || path.join(dataDir, 'keys', 'audit-signing.jwk.json'),
      ),
    },
    localOnePassword: {
      stateFile: path.resolve(env.LATCHKEY_LOCAL_1PASSWORD_FILE || path.join(dataDir, 'local-1password.json')),
    },
    worker: {
      metricsPort: int(env, 'LATCHKEY_WORKER_METRICS_PORT', 9464, 0, 65535),
      maxCachedWorkflows: int(env, 'LATCHKEY_WORKER_MAX_CACHED_WORKFLOWS', DEFAULT_MAX_CACHED_WORKFLOWS, 0, 100_000),
      workflowBundle: env.LATCHKEY_WORKFLOW_BUNDLE ? path.resolve(env.LATCHKEY_WORKFLOW_BUNDLE) : undefined,
      onePasswordCheck: oneOf(env, 'LATCHKEY_ONEPASSWORD_CHECK', ['refuse', 'warn'] as const, 'refuse'),
      internalKeyFile: path.resolve(
        env.LATCHKEY_INTERNAL_KEY_FILE || path.join(dataDir, 'keys', 'internal-messages.key'),
      ),
      rateBudgetDatabaseUrlFile: optionalFile(env, 'LATCHKEY_RATE_BUDGET_DATABASE_URL_FILE'),
    },
    reconcile: { everyMs: durationOrOff(env, 'LATCHKEY_RECONCILE_EVERY', 'PT5M') },
    directoryFile:
      optionalFile(env, 'LATCHKEY_DIRECTORY_FILE') ??
      (authMode === 'local' ? path.join(REPO_ROOT, 'config', 'people.yaml') : undefined),
    notify: {
      webhookUrl: url(env, 'LATCHKEY_NOTIFY_WEBHOOK_URL'),
      webhookTokenFile: optionalFile(env, 'LATCHKEY_NOTIFY_WEBHOOK_TOKEN_FILE'),
      email: emailSettings(env),
      slack: env.LATCHKEY_SLACK_BOT_TOKEN_FILE
        ? { botTokenFile: path.resolve(env.LATCHKEY_SLACK_BOT_TOKEN_FILE), apiUrl: url(env, 'LATCHKEY_SLACK_API_URL') }
        : undefined,
    },
    slackInteractions: env.LATCHKEY_SLACK_SIGNING_SECRET_FILE
      ? {
          signingSecretFile: path.resolve(env.LATCHKEY_SLACK_SIGNING_SECRET_FILE),
          responseOrigin: new URL(url(env, 'LATCHKEY_SLACK_RESPONSE_ORIGIN') ?? 'https://hooks.slack.com').origin,
        }
      : undefined,
    cli: {
      apiUrl: (url(env, 'LATCHKEY_API_URL') ?? `http://localhost:${port}`).replace(/\/+$/, ''),
      sessionFile: path.resolve(
        env.LATCHKEY_CLI_SESSION_FILE ||
          path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'latchkey', 'session.json'),
      ),
    },
    portal: {
      clientId: clientIdSetting(env, 'LATCHKEY_PORTAL_CLIENT_ID'),
      clientSecretFile: optionalFile(env, 'LATCHKEY_PORTAL_CLIENT_SECRET_FILE'),
      scope: scopeSetting(env, 'LATCHKEY_PORTAL_SCOPE'),
      resource: resourceIndicator(env, 'LATCHKEY_PORTAL_RESOURCE'),
    },
  };
}

function optionalFile(env: NodeJS.ProcessEnv, key: string): string | undefined {
  return env[key] ? path.resolve(env[key]) : undefined;
}

/** `LATCHKEY_NOTIFY_SMTP_URL` turns e-mail on; the sender defaults to latchkey at the URL's host. */
function emailSettings(env: NodeJS.ProcessEnv): LatchkeyConfig['notify']['email'] {
  const smtpUrl = env.LATCHKEY_NOTIFY_SMTP_URL;
  if (!smtpUrl) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(smtpUrl);
  } catch {
    throw new ConfigError('LATCHKEY_NOTIFY_SMTP_URL must be a URL such as smtp://mail.example.com:587');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:')
    throw new ConfigError('LATCHKEY_NOTIFY_SMTP_URL must start with smtp:// or smtps://');
  return {
    smtpUrl,
    from: env.LATCHKEY_NOTIFY_EMAIL_FROM || `latchkey <latchkey@${parsed.hostname}>`,
    passwordFile: optionalFile(env, 'LATCHKEY_NOTIFY_SMTP_PASSWORD_FILE'),
  };
}

// ----- The API under load or abuse: timeouts (issue 20). -----

/**
 * Defaults: a codec body of 4 MiB arrives well within 30 s on any real link; Node's own defaults
 * (5 min per request, no idle limit) let a slow client hold a socket for minutes.
 */
function apiTimeouts(env: NodeJS.ProcessEnv): LatchkeyConfig['api']['timeouts'] {
  const requestMs = int(env, 'LATCHKEY_API_REQUEST_TIMEOUT_MS', 30_000, 1_000, 600_000);
  const headersMs = int(env, 'LATCHKEY_API_HEADERS_TIMEOUT_MS', Math.min(10_000, requestMs), 1_000, 600_000);
  if (headersMs > requestMs) {
    throw new ConfigError(
      `LATCHKEY_API_HEADERS_TIMEOUT_MS (${headersMs}) must not exceed LATCHKEY_API_REQUEST_TIMEOUT_MS (${requestMs})`,
    );
  }
  return {
    // Above the longest answer the API waits for (an Update, 60 s; an emergency revoke, a few minutes).
    connectionMs: int(env, 'LATCHKEY_API_CONNECTION_TIMEOUT_MS', 300_000, 1_000, 3_600_000),
    requestMs,
    headersMs,
    keepAliveMs: int(env, 'LATCHKEY_API_KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
  };
}

// ----- The API under load or abuse: rate limits (issue 20). -----

/**
 * Defaults far above what a person or a script of the README does (a page that polls every 200 ms is
 * 300 a minute) and below what one client can send in a loop. Anonymous callers can only reach the
 * open pages and their own 401s, so they get less. Each budget is for one minute, per API instance.
 */
function apiRateLimit(env: NodeJS.ProcessEnv): LatchkeyConfig['api']['rateLimit'] {
  if (env.LATCHKEY_API_RATE_LIMIT_PER_MINUTE === 'off') return undefined;
  return {
    perMinute: int(env, 'LATCHKEY_API_RATE_LIMIT_PER_MINUTE', 1_200, 1, 1_000_000),
    anonymousPerMinute: int(env, 'LATCHKEY_API_RATE_LIMIT_ANONYMOUS_PER_MINUTE', 300, 1, 1_000_000),
    probesPerMinute: int(env, 'LATCHKEY_API_RATE_LIMIT_PROBES_PER_MINUTE', 600, 1, 1_000_000),
  };
}
