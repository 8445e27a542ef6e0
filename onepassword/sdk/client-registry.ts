import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Client, createClient } from '@1password/sdk';
import { repoRoot } from '../../config/config';
import { classifyOnePasswordError } from '../errors';

/** How latchkey names itself to 1Password (shown in the account's activity and usage reports). */
export const LATCHKEY_INTEGRATION_NAME = 'latchkey';

export function latchkeyVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

export type SdkClientFactory = (integration: string) => Promise<Client>;

/** The production factory: a service-account client per integration, authenticated with its token. */
export type SdkClientConfiguration = Parameters<typeof createClient>[0];

/**
 * The production factory: a service-account client per integration, authenticated with its token.
 * `create` is the SDK's `createClient`; tests pass one bound to a scripted core.
 */
export function serviceAccountClientFactory(
  tokenFor: (integration: string) => Promise<string>,
  create: (config: SdkClientConfiguration) => Promise<Client> = createClient,
): SdkClientFactory {
  const integrationVersion = latchkeyVersion();
  return async (integration) =>
    create({ auth: await tokenFor(integration), integrationName: LATCHKEY_INTEGRATION_NAME, integrationVersion });
}

/**
 * One SDK client per integration per process: creating a client authenticates against 1Password and
 * is costly, so it happens once, lazily, and concurrent first callers share the same creation.
 */
export class SdkClientRegistry {
  private readonly clients = new Map<string, Promise<Client>>();

  constructor(private readonly factory: SdkClientFactory) {}

  get(integration: string): Promise<Client> {
    let client = this.clients.get(integration);
    if (!client) {
      client = this.factory(integration).catch((error: unknown) => {
        // A failed creation is not cached, so the next call (an activity retry) authenticates again.
        this.clients.delete(integration);
        throw classifyOnePasswordError(error);
      });
      this.clients.set(integration, client);
    }
    return client;
  }

  /** Forget a client whose session expired; the next call creates a fresh one. */
  evict(integration: string): void {
    this.clients.delete(integration);
  }
}
