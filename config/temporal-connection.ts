import * as fs from 'node:fs';
import type { LatchkeyConfig } from './config';
import { ConfigError } from './env-values';

/**
 * What `NativeConnection.connect` (the worker and the API) and `Connection.connect` (other clients) take: the
 * address and, when the deployment asks for mTLS, the CA to trust and the certificate pair to present. Every
 * latchkey process connects through this, so no caller can forget the certificates.
 */
export interface TemporalConnectionOptions {
  address: string;
  tls?: {
    serverRootCACertificate: Buffer;
    clientCertPair: { crt: Buffer; key: Buffer };
    serverNameOverride?: string;
  };
}

function read(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new ConfigError(`cannot read the Temporal mTLS ${what} ${file}: ${(error as NodeJS.ErrnoException).code}`);
  }
}

export function temporalConnectionOptions(temporal: LatchkeyConfig['temporal']): TemporalConnectionOptions {
  const { address, tls } = temporal;
  if (!tls) return { address };
  return {
    address,
    tls: {
      serverRootCACertificate: read(tls.caFile, 'CA certificate'),
      clientCertPair: { crt: read(tls.certFile, 'client certificate'), key: read(tls.keyFile, 'client key') },
      ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
    },
  };
}
