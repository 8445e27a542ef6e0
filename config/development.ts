import * as os from 'node:os';
import * as path from 'node:path';
import { int, oneOf } from './env-values';

/**
 * Settings of development and testing (provisioning the Temporal servers, recording history
 * fixtures), parsed once like `config.ts`, which holds the running system's. Nothing outside config/
 * reads the environment.
 */
export interface DevelopmentSettings {
  /** Where provisioned servers are cached: `LATCHKEY_CACHE_DIR`, else `$XDG_CACHE_HOME/latchkey` or `~/.cache/latchkey`. */
  cacheDir: string;
  /** `LATCHKEY_TEMPORAL_CLI`: a `temporal` binary to use instead of building one. */
  temporalCli?: string;
  /** `LATCHKEY_TEMPORAL_TEST_SERVER`: an executable taking the port, instead of the one from Maven Central. */
  temporalTestServer?: string;
  /** `LATCHKEY_ALLOW_SDK_DOWNLOAD=0` turns the SDK's download fallback (it needs the internet) into a clear error. */
  allowSdkDownload: boolean;
  /** `LATCHKEY_RECORD_HISTORIES=1`: the time-skipping tests write the histories they drive as fixtures. */
  recordHistories: boolean;
  /** `LATCHKEY_PORTAL_SCREENSHOTS`: a folder where the portal's browser test keeps a picture of each page. */
  portalScreenshots?: string;
  /** Servers the integration tier's global setup started, handed to the test files through the environment. */
  testServers: { devServerAddress?: string; timeSkippingSource?: string; postgresAdminUrl?: string };
  /**
   * The mail catcher that `npm start` runs (devstack/mail-catcher.ts) when e-mail goes to no SMTP server of
   * the user's: `LATCHKEY_MAIL_CATCHER=off` turns it off. A port left unset is the default
   * (MAIL_CATCHER_DEFAULT_PORTS), or another free one when something else holds the default.
   */
  mailCatcher: { enabled: boolean; smtpPort?: number; webPort?: number };
  /** The environment that programs run by the provisioning (go, mvn, apt-get) inherit: PATH and the rest. */
  childEnv: NodeJS.ProcessEnv;
}

/** Names under which the integration tier's global setup hands its servers to the test files. */
export const TEST_SERVER_VARIABLES = {
  devServerAddress: 'LATCHKEY_TEST_TEMPORAL_ADDRESS',
  timeSkippingSource: 'LATCHKEY_TEST_SERVER_SOURCE',
  /** The admin URL (a password in it) of the PostgreSQL the targets' tests run against. */
  postgresAdminUrl: 'LATCHKEY_TEST_POSTGRES_ADMIN_URL',
} as const;

export function loadDevelopmentSettings(env: NodeJS.ProcessEnv = process.env): DevelopmentSettings {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return {
    cacheDir: path.resolve(env.LATCHKEY_CACHE_DIR || path.join(base, 'latchkey')),
    temporalCli: env.LATCHKEY_TEMPORAL_CLI || undefined,
    temporalTestServer: env.LATCHKEY_TEMPORAL_TEST_SERVER || undefined,
    allowSdkDownload: env.LATCHKEY_ALLOW_SDK_DOWNLOAD !== '0',
    recordHistories: env.LATCHKEY_RECORD_HISTORIES === '1',
    portalScreenshots: env.LATCHKEY_PORTAL_SCREENSHOTS ? path.resolve(env.LATCHKEY_PORTAL_SCREENSHOTS) : undefined,
    testServers: {
      devServerAddress: env[TEST_SERVER_VARIABLES.devServerAddress] || undefined,
      timeSkippingSource: env[TEST_SERVER_VARIABLES.timeSkippingSource] || undefined,
      postgresAdminUrl: env[TEST_SERVER_VARIABLES.postgresAdminUrl] || undefined,
    },
    mailCatcher: {
      enabled: oneOf(env, 'LATCHKEY_MAIL_CATCHER', ['on', 'off'], 'on') === 'on',
      smtpPort: optionalPort(env, 'LATCHKEY_MAIL_CATCHER_SMTP_PORT'),
      webPort: optionalPort(env, 'LATCHKEY_MAIL_CATCHER_WEB_PORT'),
    },
    childEnv: env,
  };
}

/** The ports a mail catcher listens on by custom (mailpit's and MailHog's), so that bookmarks carry over. */
export const MAIL_CATCHER_DEFAULT_PORTS = { smtp: 1025, web: 8025 } as const;

function optionalPort(env: NodeJS.ProcessEnv, key: string): number | undefined {
  return env[key] ? int(env, key, 0, 1, 65_535) : undefined;
}

/** What the integration tier's global setup writes for the test files (jest runs them in child processes). */
export function handTestServersToTestFiles(servers: Required<DevelopmentSettings['testServers']>): void {
  process.env[TEST_SERVER_VARIABLES.devServerAddress] = servers.devServerAddress;
  process.env[TEST_SERVER_VARIABLES.timeSkippingSource] = servers.timeSkippingSource;
  process.env[TEST_SERVER_VARIABLES.postgresAdminUrl] = servers.postgresAdminUrl;
}

const LIVE_ONEPASSWORD_VARIABLES = [
  'OP_SERVICE_ACCOUNT_TOKEN',
  'LATCHKEY_LIVE_VAULT',
  'LATCHKEY_LIVE_UNMANAGED_VAULT',
  'LATCHKEY_LIVE_GROUP',
  'LATCHKEY_LIVE_RECIPIENT',
  'LATCHKEY_LIVE_REFUSED_RECIPIENT',
] as const;

export type LiveOnePasswordSettings = Record<(typeof LIVE_ONEPASSWORD_VARIABLES)[number], string> & { teams: boolean };

/**
 * The live 1Password contract's account (docs/onepassword.md): a service account token and test vaults.
 * Without them it fails, naming what is missing, rather than passing vacuously.
 */
export function loadLiveOnePasswordSettings(env: NodeJS.ProcessEnv = process.env): LiveOnePasswordSettings {
  const missing = LIVE_ONEPASSWORD_VARIABLES.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(`the live 1Password contract needs ${missing.join(', ')} (see docs/onepassword.md)`);
  }
  const values = Object.fromEntries(LIVE_ONEPASSWORD_VARIABLES.map((name) => [name, env[name] ?? '']));
  return {
    ...(values as Record<(typeof LIVE_ONEPASSWORD_VARIABLES)[number], string>),
    teams: env.LATCHKEY_LIVE_PLAN === 'teams',
  };
}
