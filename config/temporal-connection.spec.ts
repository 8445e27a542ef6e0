import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from './config';
import { ConfigError } from './env-values';
import { temporalConnectionOptions } from './temporal-connection';

describe(temporalConnectionOptions.name, () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-tls-'));
    for (const name of ['ca.crt', 'client.crt', 'client.key']) fs.writeFileSync(path.join(dir, name), `${name}\n`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const tlsEnv = () => ({
    TEMPORAL_ADDRESS: 'temporal:7233',
    TEMPORAL_TLS_CA_FILE: path.join(dir, 'ca.crt'),
    TEMPORAL_TLS_CERT_FILE: path.join(dir, 'client.crt'),
    TEMPORAL_TLS_KEY_FILE: path.join(dir, 'client.key'),
  });

  it('connects in plaintext when no mTLS is configured, as to the dev server', () => {
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'localhost:7233' }).temporal)).toEqual({
      address: 'localhost:7233',
    });
  });

  it('trusts the given CA and presents the client certificate pair', () => {
    const sut = temporalConnectionOptions(loadConfig(tlsEnv()).temporal);
    expect(sut.address).toBe('temporal:7233');
    expect(sut.tls?.serverRootCACertificate.toString()).toBe('ca.crt\n');
    expect(sut.tls?.clientCertPair.crt.toString()).toBe('client.crt\n');
    expect(sut.tls?.clientCertPair.key.toString()).toBe('client.key\n');
    expect(sut.tls).not.toHaveProperty('serverNameOverride');
  });

  it('checks the server certificate against the configured name', () => {
    const sut = temporalConnectionOptions(loadConfig({ ...tlsEnv(), TEMPORAL_TLS_SERVER_NAME: 'temporal' }).temporal);
    expect(sut.tls?.serverNameOverride).toBe('temporal');
  });

  it('fails at start, naming the file, when a certificate cannot be read', () => {
    const config = loadConfig({ ...tlsEnv(), TEMPORAL_TLS_KEY_FILE: path.join(dir, 'absent.key') });
    expect(() => temporalConnectionOptions(config.temporal)).toThrow(ConfigError);
    expect(() => temporalConnectionOptions(config.temporal)).toThrow(/client key .*absent\.key: ENOENT/);
  });
});
