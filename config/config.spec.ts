import * as path from 'node:path';
import { ConfigError, loadConfig } from './config';

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
    });
    expect(sut.api.codecCorsOrigins).toEqual(['http://localhost:8233', 'http://127.0.0.1:8233']);
    expect(sut.notify).toEqual({ webhookUrl: undefined, webhookTokenFile: undefined });
    expect(sut.worker.workflowBundle).toBeUndefined();
    expect(sut.reconcile.everyMs).toBe(5 * 60_000);
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

  it('refuses bad values with a message that names the variable', () => {
    expect(() => loadConfig({ LATCHKEY_API_PORT: '70000' })).toThrow(
      new ConfigError('LATCHKEY_API_PORT must be an integer from 1 to 65535, got "70000"'),
    );
    expect(() => loadConfig({ LATCHKEY_LOG_LEVEL: 'loud' })).toThrow(/LATCHKEY_LOG_LEVEL must be one of/);
    expect(() => loadConfig({ LATCHKEY_NOTIFY_WEBHOOK_URL: 'ftp://hooks.example.com' })).toThrow(
      'LATCHKEY_NOTIFY_WEBHOOK_URL must be an http(s) URL',
    );
  });

  it('requires issuer, audience and JWKS in OIDC mode', () => {
    expect(() => loadConfig({ LATCHKEY_AUTH_MODE: 'oidc' })).toThrow(
      'LATCHKEY_AUTH_ISSUER is required when LATCHKEY_AUTH_MODE=oidc',
    );
    const sut = loadConfig({
      LATCHKEY_AUTH_MODE: 'oidc',
      LATCHKEY_AUTH_ISSUER: 'https://id.example.com',
      LATCHKEY_AUTH_AUDIENCE: 'latchkey',
      LATCHKEY_AUTH_JWKS_URL: 'https://id.example.com/jwks',
    });
    expect(sut.auth).toEqual({
      mode: 'oidc',
      issuer: 'https://id.example.com',
      audience: 'latchkey',
      jwksUrl: 'https://id.example.com/jwks',
    });
  });
});
