import * as path from 'node:path';
import { loadConfig } from '../config/config';
import { hostEnv, type RunningTemporalCluster, type TlsParty } from './temporal-cluster';

describe(hostEnv.name, () => {
  const shared = loadConfig({ LATCHKEY_DATA_DIR: '/srv/latchkey' });
  const cluster = {
    clientEnv: (party: TlsParty) => ({
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_TLS_CA_FILE: `/tls/${party}/ca.crt`,
      TEMPORAL_TLS_CERT_FILE: `/tls/${party}/tls.crt`,
      TEMPORAL_TLS_KEY_FILE: `/tls/${party}/tls.key`,
    }),
    rateLedgerUrlFile: '/srv/latchkey/cluster/rate-ledger-database-url',
  } as unknown as RunningTemporalCluster;

  it('gives each host a data folder of its own and its own certificate', () => {
    const worker = hostEnv(cluster, shared, { name: 'worker-1', party: 'worker' });
    const api = hostEnv(cluster, shared, { name: 'api-2', party: 'api' });
    expect(worker.LATCHKEY_DATA_DIR).toBe(path.join('/srv/latchkey', 'hosts', 'worker-1'));
    expect(api.LATCHKEY_DATA_DIR).toBe(path.join('/srv/latchkey', 'hosts', 'api-2'));
    expect(worker.TEMPORAL_TLS_CERT_FILE).toBe('/tls/worker/tls.crt');
    expect(api.TEMPORAL_TLS_CERT_FILE).toBe('/tls/api/tls.crt');
  });

  it('shares exactly what a deployment hands every host: the keys and 1Password, named where they were made', () => {
    const host = loadConfig(hostEnv(cluster, shared, { name: 'worker-2', party: 'worker' }));
    // Loaded as that host loads its settings: everything shared points into the shared folder, not its own.
    expect(host.codec.keyFile).toBe(shared.codec.keyFile);
    expect(host.commands.signingKeyFile).toBe(shared.commands.signingKeyFile);
    expect(host.commands.trustedKeysFile).toBe(shared.commands.trustedKeysFile);
    expect(host.worker.internalKeyFile).toBe(shared.worker.internalKeyFile);
    expect(host.audit.signingKeyFile).toBe(shared.audit.signingKeyFile);
    expect(host.localOnePassword.stateFile).toBe(shared.localOnePassword.stateFile);
    expect(host.auth.mode === 'local' && host.auth.publicKeyFile).toBe(
      shared.auth.mode === 'local' && shared.auth.publicKeyFile,
    );
    expect(host.dataDir).not.toBe(shared.dataDir);
  });

  it('gives the shared rate ledger to workers only: the API never calls 1Password', () => {
    const worker = loadConfig(hostEnv(cluster, shared, { name: 'worker-1', party: 'worker' }));
    const api = loadConfig(hostEnv(cluster, shared, { name: 'api-1', party: 'api' }));
    expect(worker.worker.rateBudgetDatabaseUrlFile).toBe(cluster.rateLedgerUrlFile);
    expect(api.worker.rateBudgetDatabaseUrlFile).toBeUndefined();
  });
});
