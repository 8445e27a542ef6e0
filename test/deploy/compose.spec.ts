import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../config/config';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';
import { postgresBinaries } from '../../devstack/postgres';
import { TEMPORAL_SERVER_VERSION } from '../../devstack/temporal-server';

/**
 * No Docker engine runs on the development and CI machines, so the production shape is checked by
 * reading docker-compose.yml and asserting the properties it must keep.
 */
interface Service {
  image?: string;
  build?: { target?: string };
  ports?: string[];
  healthcheck?: { test: unknown };
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  entrypoint?: string[];
  volumes?: string[];
  secrets?: string[];
  network_mode?: string;
}

const root = path.resolve(__dirname, '..', '..');
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const longRunning = ['postgresql', 'temporal', 'temporal-ui', 'api', 'worker'];
/**
 * The Temporal server's image (1.30 on) holds only `temporal-server`: no client to check its health with. What
 * waits for it is the setup that registers the namespace, restarted until the frontend answers it.
 */
const withHealthCheck = longRunning.filter((name) => name !== 'temporal');

/** Compose's `${NAME:?message}` and `${NAME:-default}`, filled from `values` as `docker compose` would. */
function interpolate(environment: Record<string, string>, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [
      key,
      value.replace(/\$\{(\w+)(?::[?-]([^}]*))?\}/g, (_whole, name: string, fallback?: string) => {
        if (values[name] !== undefined) return values[name];
        if (/:\?/.test(_whole)) throw new Error(`${name} must be set: ${fallback}`);
        return fallback ?? '';
      }),
    ]),
  );
}

/** A service's environment as its container sees it: the images set NODE_ENV=production (Dockerfile). */
function containerEnv(name: string): NodeJS.ProcessEnv {
  const env = interpolate(services[name].environment ?? {}, {
    LATCHKEY_AUTH_ISSUER: 'https://id.example.com',
  });
  return { NODE_ENV: 'production', ...env };
}

/** The named volumes a service mounts, by where it mounts them. */
function mounts(name: string): Record<string, string> {
  return Object.fromEntries(
    (services[name].volumes ?? [])
      .map((volume) => volume.split(':'))
      .filter(([source]) => !source.startsWith('.') && !source.startsWith('/'))
      .map(([source, target]) => [target, source]),
  );
}

const TEMPORAL_CLIENTS = ['temporal-setup', 'temporal-ui', 'api', 'worker'];

describe('docker-compose.yml (production shape)', () => {
  it('runs PostgreSQL, the Temporal server, its UI, the API and the worker as separate services', () => {
    expect(services.postgresql.image).toMatch(/^postgres:/);
    expect(services.temporal.image).toMatch(/^temporalio\/server:/);
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
    expect(services.api.build?.target).toBe('api');
    expect(services.worker.build?.target).toBe('worker');
  });

  it('sets up the schema before the server starts, and registers every custom search attribute', () => {
    expect(services.temporal.depends_on?.['temporal-schema'].condition).toBe('service_completed_successfully');
    const script = fs.readFileSync(path.join(root, 'deploy', 'temporal', 'register-search-attributes.sh'), 'utf8');
    for (const { name, type } of CUSTOM_SEARCH_ATTRIBUTES) {
      expect(script).toContain(`register ${name} ${type}`);
    }
    expect(services.api.depends_on?.['temporal-setup'].condition).toBe('service_completed_successfully');
    expect(services.worker.depends_on?.['temporal-setup'].condition).toBe('service_completed_successfully');
  });

  it('gives every long-running service a restart policy, and a health check where its image can run one', () => {
    for (const name of longRunning) expect(services[name].restart).toBe('unless-stopped');
    for (const name of withHealthCheck) expect(services[name].healthcheck?.test).toBeDefined();
    expect(services['temporal-setup'].depends_on?.temporal.condition).toBe('service_started');
    expect(services['temporal-setup'].restart).toBe('on-failure');
  });

  it('runs the versions and the set-up that `npm run cluster` runs', () => {
    const tag = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
    expect(services.temporal.image).toBe(`temporalio/server:${tag}`);
    expect(services['temporal-schema'].image).toBe(`temporalio/admin-tools:${tag}`);
    expect(services['temporal-setup'].image).toBe(`temporalio/admin-tools:${tag}`);
    const [major, minor] = postgresBinaries().version.split('.');
    expect(services.postgresql.image).toBe(`postgres:${major}.${minor}-bookworm`);
    // The same scripts: the server started as the cluster starts it, the schema set up by the same steps.
    expect(services.temporal.entrypoint).toEqual(['/bin/sh', '/deploy/temporal/start-server.sh']);
    expect(services['temporal-schema'].entrypoint).toEqual(['/bin/sh', '/deploy/temporal/setup-schema.sh']);
    expect(services.temporal.volumes).toContain('./deploy/temporal:/deploy/temporal:ro');
  });

  it('never publishes the Temporal frontend, and publishes other ports on loopback only', () => {
    expect(services.temporal.ports).toBeUndefined();
    for (const service of Object.values(services)) {
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('points the Temporal UI at the API codec endpoint', () => {
    expect(services['temporal-ui'].environment?.TEMPORAL_CODEC_ENDPOINT).toMatch(/\/codec$/);
  });

  it('gives 1Password tokens to the worker only', () => {
    const holders = Object.entries(compose.services)
      .filter(([, service]) => JSON.stringify(service).includes('op_service_account_token'))
      .map(([name]) => name);
    expect(holders).toEqual(['worker']);
  });

  describe('hardened (issue 20)', () => {
    it('publishes neither the Temporal frontend nor the worker metrics: only the API and the UI, on loopback', () => {
      const published = Object.entries(services)
        .filter(([, service]) => (service.ports ?? []).length > 0)
        .map(([name]) => name);
      expect(published.sort()).toEqual(['api', 'temporal-ui']);
      expect(services.worker.ports).toBeUndefined();
      for (const service of Object.values(services)) {
        for (const port of service.ports ?? []) expect(port).not.toMatch(/:(7233|9464)$/);
      }
    });

    it('makes the certificates and keys once, in a setup that runs before the server and has no network', () => {
      expect(services.setup.build?.target).toBe('setup');
      expect(services.setup.network_mode).toBe('none');
      expect(services.temporal.depends_on?.setup.condition).toBe('service_completed_successfully');
      const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
      expect(dockerfile).toMatch(
        /FROM runtime AS setup[\s\S]*openssl[\s\S]*ENTRYPOINT \["\/bin\/sh", "\/app\/deploy\/setup\/setup.sh"\]/,
      );
      const script = fs.readFileSync(path.join(root, 'deploy', 'setup', 'setup.sh'), 'utf8');
      expect(script).toContain('make-certs.sh /tls');
      expect(script).toMatch(/keys init[\s\S]*--command-signing-key \/keys\/command\//);
      const certs = fs.readFileSync(path.join(root, 'deploy', 'setup', 'make-certs.sh'), 'utf8');
      for (const party of ['temporal', 'ui', 'admin', 'api', 'worker']) {
        expect(certs).toMatch(new RegExp(`^issue ${party} `, 'm'));
        expect(mounts('setup')[`/tls/${party}`]).toBe(`tls-${party}`);
      }
    });

    it("keeps the CA's key in a volume that only the setup mounts, and gives each party a volume of its own", () => {
      const holders = (volume: string) =>
        Object.keys(services).filter((name) => Object.values(mounts(name)).includes(volume));
      expect(holders('tls-ca')).toEqual(['setup']);
      const own = {
        temporal: 'tls-temporal',
        'temporal-setup': 'tls-admin',
        'temporal-ui': 'tls-ui',
        api: 'tls-api',
        worker: 'tls-worker',
      };
      for (const [name, volume] of Object.entries(own)) {
        expect(holders(volume).sort()).toEqual([name, 'setup'].sort());
        expect(services[name].volumes).toContainEqual(expect.stringMatching(new RegExp(`^${volume}:[^:]+:ro$`)));
      }
    });

    it('requires a client certificate of the CA at the Temporal frontend', () => {
      const env = services.temporal.environment ?? {};
      expect(env).toMatchObject({
        TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true',
        TEMPORAL_TLS_FRONTEND_CERT: '/etc/temporal/tls/tls.crt',
        TEMPORAL_TLS_FRONTEND_KEY: '/etc/temporal/tls/tls.key',
        TEMPORAL_TLS_CLIENT1_CA_CERT: '/etc/temporal/tls/ca.crt',
        TEMPORAL_TLS_SERVER_CA_CERT: '/etc/temporal/tls/ca.crt',
        TEMPORAL_TLS_FRONTEND_SERVER_NAME: 'temporal',
      });
      expect(mounts('temporal')['/etc/temporal/tls']).toBe('tls-temporal');
    });

    it.each(['temporal-setup', 'temporal-ui'])('connects %s to Temporal with its own certificate', (name) => {
      expect(services[name].environment).toMatchObject({
        TEMPORAL_TLS_CA: '/etc/temporal/tls/ca.crt',
        TEMPORAL_TLS_CERT: '/etc/temporal/tls/tls.crt',
        TEMPORAL_TLS_KEY: '/etc/temporal/tls/tls.key',
        TEMPORAL_TLS_SERVER_NAME: 'temporal',
      });
      expect(mounts(name)['/etc/temporal/tls']).toBeDefined();
    });

    it('passes the certificate to every temporal CLI call of the setup script', () => {
      const script = fs.readFileSync(path.join(root, 'deploy', 'temporal', 'register-search-attributes.sh'), 'utf8');
      expect(script).toMatch(
        /command temporal "\$@" --tls-ca-path "\$TEMPORAL_TLS_CA" --tls-cert-path "\$TEMPORAL_TLS_CERT"/,
      );
    });

    it.each(['api', 'worker'])(
      "connects latchkey's %s with mTLS, and it starts in production (OIDC, not local tokens)",
      (name) => {
        const config = loadConfig(containerEnv(name));
        expect(config.temporal.tls).toEqual({
          caFile: '/etc/latchkey/tls/ca.crt',
          certFile: '/etc/latchkey/tls/tls.crt',
          keyFile: '/etc/latchkey/tls/tls.key',
          serverName: 'temporal',
        });
        expect(mounts(name)['/etc/latchkey/tls']).toBe(`tls-${name}`);
        expect(config.auth.mode).toBe('oidc');
        expect(() => loadConfig({ ...containerEnv(name), LATCHKEY_AUTH_MODE: 'local' })).toThrow(/NODE_ENV=production/);
      },
    );

    it('leaves every Temporal client with mTLS: no service but the server and these talks to it', () => {
      const talking = Object.entries(services)
        .filter(([, service]) => JSON.stringify(service.environment ?? {}).includes('temporal:7233'))
        .map(([name]) => name);
      expect(talking.sort()).toEqual([...TEMPORAL_CLIENTS].sort());
    });

    it('keeps the UI read-only, since it logs no one in, and lets it only decode', () => {
      const env = services['temporal-ui'].environment ?? {};
      if (env.TEMPORAL_AUTH_ENABLED !== 'true') expect(env.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
      // The UI appends /decode (and /encode, only for write actions): the API serves /codec/decode alone.
      expect(env.TEMPORAL_CODEC_ENDPOINT).toBe('http://localhost:3000/codec');
      expect(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')).not.toContain('/codec/encode');
    });

    it('gives the API the command signing key and the codec key, and no private token key or trusted keys', () => {
      const env = containerEnv('api');
      expect(env.LATCHKEY_COMMAND_SIGNING_KEY_FILE).toBe('/etc/latchkey/keys/command/command-signing.jwk.json');
      expect(mounts('api')).toMatchObject({
        '/etc/latchkey/keys/command': 'command-signing-key',
        '/etc/latchkey/keys/codec': 'codec-key',
      });
      expect(env.LATCHKEY_COMMAND_TRUSTED_KEYS_FILE).toBeUndefined();
      expect(Object.values(mounts('api'))).not.toContain('command-trusted-keys');
      expect(env.LATCHKEY_AUTH_LOCAL_KEY_FILE).toBeUndefined();
      expect(JSON.stringify(services.api)).not.toMatch(/token-signing/);
    });

    it('gives the worker the trusted public keys, the codec and internal keys and the 1Password tokens, and no signing key', () => {
      const env = containerEnv('worker');
      expect(env.LATCHKEY_COMMAND_TRUSTED_KEYS_FILE).toBe('/etc/latchkey/keys/trusted/command-trusted-keys.jwks.json');
      expect(env.LATCHKEY_INTERNAL_KEY_FILE).toBe('/etc/latchkey/keys/internal/internal-messages.key');
      expect(mounts('worker')).toMatchObject({
        '/etc/latchkey/keys/trusted': 'command-trusted-keys',
        '/etc/latchkey/keys/codec': 'codec-key',
        '/etc/latchkey/keys/internal': 'internal-key',
      });
      expect(env.LATCHKEY_COMMAND_SIGNING_KEY_FILE).toBeUndefined();
      expect(Object.values(mounts('worker'))).not.toContain('command-signing-key');
      expect(services.worker.secrets).toEqual(['op_service_account_token']);
      const holders = (volume: string) =>
        Object.keys(services).filter((name) => Object.values(mounts(name)).includes(volume));
      expect(holders('command-signing-key').sort()).toEqual(['api', 'setup']);
      expect(holders('codec-key').sort()).toEqual(['api', 'setup', 'worker']);
      // Only workers (and setup, which makes it) hold the key of messages between their workflows.
      expect(holders('internal-key').sort()).toEqual(['setup', 'worker']);
    });
  });
});
