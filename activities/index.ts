import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { CatalogItem, CatalogVault, ResourceCatalog } from '../contracts/catalog';
import type { NotificationEvent } from '../contracts/notifications';
import type { Notifier } from '../notify/notifier';
import type { OnePasswordPort } from '../onepassword/port';
import { expiryBucketFor } from '../domain/share-links';
import { leaseRequestSignal, VAULT_LEASE_WORKFLOW_TYPE, type VaultLeaseState } from '../contracts/vault-lease';
import { callOnePassword } from './failures';
import {
  GRANT_REFUSED_FAILURE,
  type GroupPermissionsInput,
  type LeaseSignalInput,
  type RevokeGroupInput,
  type RotateSecretInput,
  type RotateSecretResult,
  type ShareLinkGrantInput,
  type ShareLinkGrantResult,
} from './types';
import { vaultLeaseWorkflowId } from '../domain/ids';

export * from './types';

/** The logging surface activities use (pino's, narrowed). Never pass a secret or an e-mail in a field. */
export interface ActivityLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ActivityDeps {
  /** The 1Password port of an integration (local or SDK adapter). */
  onePassword: (integration: string) => OnePasswordPort;
  notifier: Notifier;
  logger: ActivityLogger;
  /** Needed by the vault-lease activity (signal-with-start). */
  temporal?: Client;
  now?: () => Date;
}

/**
 * Heartbeats while a 1Password call is pending, so that a worker that dies mid-call is noticed within
 * the heartbeat timeout (not the whole start-to-close timeout) and the call is retried elsewhere with
 * the same idempotency key.
 */
async function heartbeating<T>(call: () => Promise<T>): Promise<T> {
  const context = Context.current();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), 1_000);
  try {
    return await call();
  } finally {
    clearInterval(timer);
  }
}

function workflowIdOf(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.workflowId;
  } catch {
    return undefined;
  }
}

/**
 * The activities, made by a factory that receives their dependencies. Each is one external effect,
 * idempotent and keyed by workflow id + step, with every port failure mapped by one classifier.
 */
export function createActivities(deps: ActivityDeps) {
  const now = deps.now ?? (() => new Date());
  const log = (msg: string, fields: object) => deps.logger.info({ workflowId: workflowIdOf(), ...fields }, msg);

  return {
    async notify(event: NotificationEvent): Promise<void> {
      await deps.notifier.notify(event);
    },

    /** Share link for the requester: the shortest bucket covering the duration, refused when the account max is shorter. */
    async createShareLink(input: ShareLinkGrantInput): Promise<ShareLinkGrantResult> {
      const port = deps.onePassword(input.integration);
      const policy = await callOnePassword(() => port.getSharePolicy(input.vaultId, input.itemId));
      const bucket = expiryBucketFor(input.durationMs, policy.maxExpiry);
      if (!bucket.ok) {
        throw ApplicationFailure.create({ type: GRANT_REFUSED_FAILURE, message: bucket.reason, nonRetryable: true });
      }
      const link = await heartbeating(() =>
        callOnePassword(() =>
          port.createShareLink({
            vaultId: input.vaultId,
            itemId: input.itemId,
            recipients: [input.recipientEmail],
            expiry: bucket.value,
            oneTimeOnly: input.oneTimeView || policy.oneTimeOnly,
            idempotencyKey: input.idempotencyKey,
          }),
        ),
      );
      log('share link created', { step: input.idempotencyKey, itemId: input.itemId, bucket: bucket.value });
      return { url: link.url, bucket: bucket.value, expiresAt: link.expiresAt };
    },

    async grantGroupPermissions(input: GroupPermissionsInput): Promise<void> {
      const port = deps.onePassword(input.integration);
      await heartbeating(() =>
        callOnePassword(() =>
          port.grantGroupPermissions({
            vaultId: input.vaultId,
            groupId: input.groupId,
            permissions: input.permissions,
          }),
        ),
      );
      log('group permissions granted', { step: input.idempotencyKey, vaultId: input.vaultId, groupId: input.groupId });
    },

    async revokeGroupPermissions(input: RevokeGroupInput): Promise<void> {
      const port = deps.onePassword(input.integration);
      await callOnePassword(() => port.revokeGroupPermissions({ vaultId: input.vaultId, groupId: input.groupId }));
      log('group permissions revoked', { step: input.idempotencyKey, vaultId: input.vaultId, groupId: input.groupId });
    },

    async rotateItemSecret(input: RotateSecretInput): Promise<RotateSecretResult> {
      const port = deps.onePassword(input.integration);
      const result = await callOnePassword(() =>
        port.rotateItemSecret({ vaultId: input.vaultId, itemId: input.itemId, idempotencyKey: input.idempotencyKey }),
      );
      log('item secret rotated', { step: input.idempotencyKey, itemId: input.itemId, version: result.version });
      return result;
    },

    /**
     * Delivers an acquire/release to the vault-lease entity, starting it if needed. Idempotent: the
     * entity ignores a lease id it has already counted, and answers every message with a signal.
     */
    async signalVaultLease(input: LeaseSignalInput): Promise<void> {
      if (!deps.temporal) throw ApplicationFailure.nonRetryable('no Temporal client configured for vault leases');
      const { key, request } = input;
      const initial: VaultLeaseState = { ...key, holders: {}, granted: [], queue: [], generation: 0 };
      await deps.temporal.workflow.signalWithStart(VAULT_LEASE_WORKFLOW_TYPE, {
        workflowId: vaultLeaseWorkflowId(key.integration, key.vaultId, key.groupId),
        taskQueue: Context.current().info.taskQueue,
        args: [initial],
        signal: leaseRequestSignal,
        signalArgs: [request],
        staticSummary: `Vault lease: group ${key.groupId} on vault ${key.vaultId} (${key.integration})`,
      });
      log('vault lease message sent', { op: request.op, vaultId: key.vaultId, groupId: key.groupId });
    },

    /** Lists vaults and items (with tags) of every integration, for policy resolution and the catalog. */
    async refreshCatalog(integrations: string[]): Promise<ResourceCatalog> {
      const vaults: CatalogVault[] = [];
      const items: CatalogItem[] = [];
      for (const integration of integrations) {
        const port = deps.onePassword(integration);
        for (const vault of await callOnePassword(() => port.listVaults())) {
          vaults.push({
            integration,
            vaultId: vault.id,
            title: vault.title,
            createdByServiceAccount: vault.createdByServiceAccount,
          });
          for (const item of await callOnePassword(() => port.listItems(vault.id))) {
            items.push({ integration, vaultId: vault.id, itemId: item.id, title: item.title, tags: item.tags });
          }
          Context.current().heartbeat();
        }
      }
      return { refreshedAt: now().toISOString(), vaults, items };
    },
  };
}

export type LatchkeyActivities = ReturnType<typeof createActivities>;
