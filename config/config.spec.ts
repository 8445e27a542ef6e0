import * as path from 'node:path';
import { loadConfig } from './config';
import { ConfigError } from './env-values';

describe(loadConfig.name, () => {
  it('runs on embedded defaults: local auth, local data folder, the dev ports', () => {
    const sut = loadConfig({ LATCHKEY_DATA_DIR: '/tmp/latchkey-x' });
    expect(sut.api.port).toBe(3000);
    expect(sut.temporal).toMatchObject({
      address: 'localhost:7233',
      namespace: 'default',
      taskQueue: 'latchkey',
      devUiPort: 8233,
    });
    expect(sut.auth).toMatchObject({
      mode: 'local',
      signingKeyFile: path.join('/tmp/latchkey-x', 'keys', 'token-signing.jwk.json'),
      publicKeyFile: path.join('/tmp/latchkey-x', 'keys', 'token-signing.public.jwk.json'),
    });
    expect(sut.temporal.tls).toBeUndefined();
    expect(sut.api.codecCorsOrigins).toEqual(['http://localhost:8233', 'http://127.0.0.1:8233']);
    expect(sut.notify).toEqual({ webhookUrl: undefined, webhookTokenFile: undefined });
    expect(sut.worker.workflowBundle).toBeUndefined();
    expect(sut.reconcile.everyMs).toBe(5 * 60_000);
  });

  it('reads the portal’s client at the provider, and has none unless told', () => {
    expect(loadConfig({}).portal).toEqual({ scope: 'openid email profile' });
    expect(
      loadConfig({
        LATCHKEY_PORTAL_CLIENT_ID: 'latchkey-portal',
        LATCHKEY_PORTAL_CLIENT_SECRET_FILE: 'secrets/portal',
        LATCHKEY_PORTAL_SCOPE: 'openid email',
        LATCHKEY_PORTAL_RESOURCE: 'https://latchkey.example.com/api',
      }).portal,
    ).toEqual({
      clientId: 'latchkey-portal',
      clientSecretFile: path.resolve('secrets/portal'),
      scope: 'openid email',
      resource: 'https://latchkey.example.com/api',
    });
    expect(() => loadConfig({ LATCHKEY_PORTAL_CLIENT_ID: 'a b' })).toThrow(/LATCHKEY_PORTAL_CLIENT_ID/);
    expect(() => loadConfig({ LATCHKEY_PORTAL_RESOURCE: 'https://x.test/#f' })).toThrow(/LATCHKEY_PORTAL_RESOURCE/);
  });

  it('reconciles as often as told, or never', () => {
    expect(loadConfig({ LATCHKEY_RECONCILE_EVERY: 'PT1M' }).reconcile.everyMs).toBe(60_000);
    expect(loadConfig({ LATCHKEY_RECONCILE_EVERY: 'off' }).reconcile.everyMs).toBeUndefined();
    expect(() => loadConfig({ LATCHKEY_RECONCILE_EVERY: 'PT1S' })).toThrow(
      'LATCHKEY_RECONCILE_EVERY must be at least PT10S, or off; got "PT1S"',
    );
    expect(() => loadConfig({ LATCHKEY_RECONCILE_EVERY: 'often' })).toThrow(/must be an ISO 8601 duration/);
  });

  it('lets the codec CORS origins follow the dev UI port', () => {
    expect(loadConfig({ LATCHKEY_TEMPORAL_UI_PORT: '9000' }).api.codecCorsOrigins).toEqual([
      'http://localhost:9000',
      'http://127.0.0.1:9000',
    ]);
  });

  it('reads the payload keys of a rotation: the current one, and decode-only ones by id', () => {
    expect(loadConfig({ LATCHKEY_DATA_DIR: '/tmp/latchkey-x' }).codec).toEqual({
      keyFile: path.join('/tmp/latchkey-x', 'keys', 'payload-codec.key'),
      keyId: 'local-1',
      decodeKeys: [],
    });
    const sut = loadConfig({
      LATCHKEY_CODEC_KEY_FILE: '/keys/b.key',
      LATCHKEY_CODEC_KEY_ID: 'b',
      LATCHKEY_CODEC_DECODE_KEYS: 'a=/keys/a.key, old.0=/keys/old.key',
    });
    expect(sut.codec).toEqual({
      keyFile: '/keys/b.key',
      keyId: 'b',
      decodeKeys: [
        { id: 'a', file: '/keys/a.key' },
        { id: 'old.0', file: '/keys/old.key' },
      ],
    });
    expect(() => loadConfig({ LATCHKEY_CODEC_DECODE_KEYS: '/keys/a.key' })).toThrow(
      'LATCHKEY_CODEC_DECODE_KEYS must be a comma-separated list of id=/path/to/key, got "/keys/a.key"',
    );
  });

  it('keeps the audit signing key beside the other keys unless told otherwise', () => {
    expect(loadConfig({ LATCHKEY_DATA_DIR: '/tmp/latchkey-x' }).audit.signingKeyFile).toBe(
      path.join('/tmp/latchkey-x', 'keys', 'audit-signing.jwk.json'),
    );
    expect(loadConfig({ LATCHKEY_AUDIT_SIGNING_KEY_FILE: '/keys/audit.jwk.json' }).audit.signingKeyFile).toBe(
      '/keys/audit.jwk.json',
    );
  });

  it('bounds the worker’s workflow cache unless told otherwise', () => {
    expect(loadConfig({}).worker.maxCachedWorkflows).toBe(150);
    expect(loadConfig({ LATCHKEY_WORKER_MAX_CACHED_WORKFLOWS: '0' }).worker.maxCachedWorkflows).toBe(0);
    expect(() => loadConfig({ LATCHKEY_WORKER_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow(
      'LATCHKEY_WORKER_MAX_CACHED_WORKFLOWS must be an integer from 0 to 100000, got "lots"',
    );
  });

  it('refuses bad values with a message that names the variable', () => {
    expect(() => loadConfig({ LATCHKEY_API_PORT: '70000' })).toThrow(
      new ConfigError('LATCHKEY_API_PORT must be an integer from 1 to 65535, got "70000"'),
    );
    expect(() => loadConfig({ LATCHKEY_LOG_LEVEL: 'loud' })).toThrow(/LATCHKEY_LOG_LEVEL must be one of/);
    expect(() => loadConfig({ LATCHKEY_NOTIFY_WEBHOOK_URL: 'ftp://hooks.example.com' })).toThrow(
      'LATCHKEY_NOTIFY_WEBHOOK_URL must be an http(s) URL',
    );
  });

  it('requires issuer and audience in OIDC mode; the JWKS comes from discovery unless given', () => {
    expect(() => loadConfig({ LATCHKEY_AUTH_MODE: 'oidc' })).toThrow(
      'LATCHKEY_AUTH_ISSUER is required when LATCHKEY_AUTH_MODE=oidc',
    );
    const sut = loadConfig({
      LATCHKEY_AUTH_MODE: 'oidc',
      LATCHKEY_AUTH_ISSUER: 'https://id.example.com',
      LATCHKEY_AUTH_AUDIENCE: 'latchkey',
    });
    expect(sut.auth).toMatchObject({
      mode: 'oidc',
      profile: 'generic',
      issuer: 'https://id.example.com',
      audience: 'latchkey',
      jwksUrl: undefined,
      tokenFormat: 'jwt',
      maxTokenAgeSeconds: 86_400,
    });
  });

  describe('the API under abuse', () => {
    it('refuses tokens older than a day and bounds slow clients, unless told otherwise', () => {
      const sut = loadConfig({});
      expect(sut.auth.maxTokenAgeSeconds).toBe(86_400);
      expect(sut.api.timeouts).toEqual({
        connectionMs: 300_000,
        requestMs: 30_000,
        headersMs: 10_000,
        keepAliveMs: 5_000,
      });
    });

    it('reads the maximum token age as an ISO 8601 duration, within a minute and 30 days', () => {
      expect(loadConfig({ LATCHKEY_AUTH_MAX_TOKEN_AGE: 'PT8H' }).auth.maxTokenAgeSeconds).toBe(8 * 3600);
      expect(() => loadConfig({ LATCHKEY_AUTH_MAX_TOKEN_AGE: 'PT10S' })).toThrow(
        'LATCHKEY_AUTH_MAX_TOKEN_AGE must be from 60 s to 2592000 s; got "PT10S"',
      );
      expect(() => loadConfig({ LATCHKEY_AUTH_MAX_TOKEN_AGE: 'a day' })).toThrow(/must be an ISO 8601 duration/);
    });

    it('takes each timeout from its variable, and refuses headers allowed longer than the whole request', () => {
      const sut = loadConfig({
        LATCHKEY_API_CONNECTION_TIMEOUT_MS: '90000',
        LATCHKEY_API_REQUEST_TIMEOUT_MS: '20000',
        LATCHKEY_API_HEADERS_TIMEOUT_MS: '5000',
        LATCHKEY_API_KEEP_ALIVE_TIMEOUT_MS: '1000',
      });
      expect(sut.api.timeouts).toEqual({
        connectionMs: 90_000,
        requestMs: 20_000,
        headersMs: 5_000,
        keepAliveMs: 1_000,
      });
      expect(loadConfig({ LATCHKEY_API_REQUEST_TIMEOUT_MS: '5000' }).api.timeouts.headersMs).toBe(5_000);
      expect(() =>
        loadConfig({ LATCHKEY_API_REQUEST_TIMEOUT_MS: '5000', LATCHKEY_API_HEADERS_TIMEOUT_MS: '6000' }),
      ).toThrow('LATCHKEY_API_HEADERS_TIMEOUT_MS (6000) must not exceed LATCHKEY_API_REQUEST_TIMEOUT_MS (5000)');
    });

    it('limits each caller per minute, anonymous callers and probes apart, unless switched off', () => {
      expect(loadConfig({}).api.rateLimit).toEqual({ perMinute: 1_200, anonymousPerMinute: 300, probesPerMinute: 600 });
      const sut = loadConfig({
        LATCHKEY_API_RATE_LIMIT_PER_MINUTE: '50',
        LATCHKEY_API_RATE_LIMIT_ANONYMOUS_PER_MINUTE: '5',
        LATCHKEY_API_RATE_LIMIT_PROBES_PER_MINUTE: '7',
      });
      expect(sut.api.rateLimit).toEqual({ perMinute: 50, anonymousPerMinute: 5, probesPerMinute: 7 });
      expect(loadConfig({ LATCHKEY_API_RATE_LIMIT_PER_MINUTE: 'off' }).api.rateLimit).toBeUndefined();
      expect(() => loadConfig({ LATCHKEY_API_RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0' })).toThrow(
        'LATCHKEY_API_RATE_LIMIT_ANONYMOUS_PER_MINUTE must be an integer from 1 to 1000000, got "0"',
      );
    });
  });

  it('keeps the local public key beside the private one unless told where', () => {
    expect(loadConfig({ LATCHKEY_AUTH_LOCAL_KEY_FILE: '/keys/mint.json' }).auth).toMatchObject({
      signingKeyFile: '/keys/mint.json',
      publicKeyFile: '/keys/mint.public.jwk.json',
    });
    expect(
      loadConfig({ LATCHKEY_AUTH_LOCAL_PUBLIC_KEY_FILE: '/api/token-signing.public.jwk.json' }).auth,
    ).toMatchObject({ publicKeyFile: '/api/token-signing.public.jwk.json' });
  });

  describe('local auth in production', () => {
    it('is refused, whether asked for or by default', () => {
      const message = /LATCHKEY_AUTH_MODE is local \(the default\) and NODE_ENV=production/;
      expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
      expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(message);
      expect(() => loadConfig({ NODE_ENV: 'production', LATCHKEY_AUTH_MODE: 'local' })).toThrow(message);
      expect(() =>
        loadConfig({
          NODE_ENV: 'production',
          LATCHKEY_AUTH_MODE: 'local',
          LATCHKEY_ALLOW_LOCAL_AUTH_IN_PRODUCTION: 'yes',
        }),
      ).toThrow(/LATCHKEY_ALLOW_LOCAL_AUTH_IN_PRODUCTION must be one of true, false/);
    });

    it('is allowed when said explicitly, and outside production', () => {
      expect(loadConfig({ NODE_ENV: 'production', LATCHKEY_ALLOW_LOCAL_AUTH_IN_PRODUCTION: 'true' }).auth.mode).toBe(
        'local',
      );
      expect(loadConfig({ NODE_ENV: 'development', LATCHKEY_AUTH_MODE: 'local' }).auth.mode).toBe('local');
    });

    it('does not stand in the way of OIDC', () => {
      const sut = loadConfig({
        NODE_ENV: 'production',
        LATCHKEY_AUTH_MODE: 'oidc',
        LATCHKEY_AUTH_ISSUER: 'https://id.example.com',
        LATCHKEY_AUTH_AUDIENCE: 'latchkey',
        LATCHKEY_AUTH_JWKS_URL: 'https://id.example.com/jwks',
      });
      expect(sut.auth.mode).toBe('oidc');
    });
  });

  describe('mTLS to Temporal', () => {
    const files = {
      TEMPORAL_TLS_CA_FILE: '/tls/ca.crt',
      TEMPORAL_TLS_CERT_FILE: '/tls/client.crt',
      TEMPORAL_TLS_KEY_FILE: '/tls/client.key',
    };

    it('takes the CA, certificate and key together, with an optional server name', () => {
      expect(loadConfig(files).temporal.tls).toEqual({
        caFile: '/tls/ca.crt',
        certFile: '/tls/client.crt',
        keyFile: '/tls/client.key',
        serverName: undefined,
      });
      expect(loadConfig({ ...files, TEMPORAL_TLS_SERVER_NAME: 'temporal' }).temporal.tls?.serverName).toBe('temporal');
    });

    it.each(Object.keys(files))('refuses a partial set, naming what is missing (%s)', (key) => {
      const partial: NodeJS.ProcessEnv = { ...files, [key]: '' };
      expect(() => loadConfig(partial)).toThrow(ConfigError);
      expect(() => loadConfig(partial)).toThrow(`together; missing ${key}`);
    });

    it('refuses a server name without the files', () => {
      expect(() => loadConfig({ TEMPORAL_TLS_SERVER_NAME: 'temporal' })).toThrow(
        'TEMPORAL_TLS_SERVER_NAME needs TEMPORAL_TLS_CA_FILE, TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE',
      );
    });
  });

  describe('notifications to people', () => {
    const oidc = {
      LATCHKEY_AUTH_MODE: 'oidc',
      LATCHKEY_AUTH_ISSUER: 'https://id.example.com',
      LATCHKEY_AUTH_AUDIENCE: 'latchkey',
    };

    it('sends no e-mail unless an SMTP URL is given', () => {
      expect(loadConfig({}).notify.email).toBeUndefined();
    });

    it('refuses an SMTP URL that is not smtp:// or smtps://, naming the variable', () => {
      expect(() => loadConfig({ LATCHKEY_NOTIFY_SMTP_URL: 'http://mail.example.com:587' })).toThrow(
        new ConfigError('LATCHKEY_NOTIFY_SMTP_URL must start with smtp:// or smtps://'),
      );
      expect(() => loadConfig({ LATCHKEY_NOTIFY_SMTP_URL: 'mail.example.com:587' })).toThrow(ConfigError);
      expect(() => loadConfig({ LATCHKEY_NOTIFY_SMTP_URL: 'not a url' })).toThrow(
        new ConfigError('LATCHKEY_NOTIFY_SMTP_URL must be a URL such as smtp://mail.example.com:587'),
      );
    });

    it("sends as latchkey at the SMTP server's host unless told who", () => {
      expect(loadConfig({ LATCHKEY_NOTIFY_SMTP_URL: 'smtps://mail.example.com:465' }).notify.email).toEqual({
        smtpUrl: 'smtps://mail.example.com:465',
        from: 'latchkey <latchkey@mail.example.com>',
        passwordFile: undefined,
      });
      expect(
        loadConfig({
          LATCHKEY_NOTIFY_SMTP_URL: 'smtp://latchkey@mail.example.com:587',
          LATCHKEY_NOTIFY_EMAIL_FROM: 'Access <access@example.com>',
          LATCHKEY_NOTIFY_SMTP_PASSWORD_FILE: '/secrets/smtp-password',
        }).notify.email,
      ).toEqual({
        smtpUrl: 'smtp://latchkey@mail.example.com:587',
        from: 'Access <access@example.com>',
        passwordFile: '/secrets/smtp-password',
      });
    });

    it('reads the demo people in local mode and no directory in OIDC mode, unless one is given', () => {
      expect(loadConfig({}).directoryFile).toBe(path.join(__dirname, 'people.yaml'));
      expect(loadConfig(oidc).directoryFile).toBeUndefined();
      expect(loadConfig({ ...oidc, LATCHKEY_DIRECTORY_FILE: '/etc/latchkey/people.yaml' }).directoryFile).toBe(
        '/etc/latchkey/people.yaml',
      );
    });
  });
});
