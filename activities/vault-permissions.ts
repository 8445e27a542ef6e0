import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { leaseRequestSignal, VAULT_LEASE_WORKFLOW_TYPE, type VaultLeaseState } from '../contracts/vault-lease';
import { vaultLeaseWorkflowId } from '../domain/ids';
import { withMac } from '../trust/internal-message';
import type { ActivityContext } from './context';
import { endingAttempt, isGone, reportGone } from './ending';
import { callOnePassword } from './failures';
import { heartbeating } from './heartbeat';
import type { GroupPermissionsInput, LeaseSignalInput, RevokeGroupInput, RevokeGroupResult } from './types';

/** Group permissions on broker-created vaults, and the messages to the vault-lease entity that owns them. */
export function vaultPermissionActivities(deps: ActivityContext) {
  const { onePassword, log } = deps;
  return {
    async grantGroupPermissions(input: GroupPermissionsInput): Promise<void> {
      const port = onePassword(input.integration);
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

    /** Removes the group's permissions; a vault or group that no longer exists has nothing left to remove. */
    async revokeGroupPermissions(input: RevokeGroupInput): Promise<RevokeGroupResult> {
      const port = onePassword(input.integration);
      const what = { step: input.idempotencyKey, integration: input.integration, resourceId: input.vaultId };
      const effect = await endingAttempt(deps, what, async () => {
        try {
          await port.revokeGroupPermissions({ vaultId: input.vaultId, groupId: input.groupId });
          return 'revoked' as const;
        } catch (error) {
          if (!isGone(error)) throw error;
          return 'gone' as const;
        }
      });
      if (effect === 'gone') await reportGone(deps, what);
      log('group permissions revoked', { step: input.idempotencyKey, vaultId: input.vaultId, effect });
      return { effect };
    },

    /** What 1Password really holds for the group on the vault (a fresh lease reads it before it acts). */
    async readGroupPermissions(input: Omit<RevokeGroupInput, 'idempotencyKey'>): Promise<string[]> {
      const port = onePassword(input.integration);
      try {
        const entries = await port.listGroupPermissions(input.vaultId);
        return entries.find((entry) => entry.groupId === input.groupId)?.permissions.sort() ?? [];
      } catch (error) {
        if (isGone(error)) return [];
        throw error;
      }
    },

    /**
     * Delivers a message to the vault-lease entity, starting it if needed. Idempotent: the entity ignores
     * a lease id it has already counted, and answers every message with a signal.
     */
    async signalVaultLease(input: LeaseSignalInput): Promise<void> {
      if (!deps.temporal) throw ApplicationFailure.nonRetryable('no Temporal client configured for vault leases');
      if (!deps.trust) throw ApplicationFailure.nonRetryable('no internal message key configured for vault leases');
      const { key } = input;
      const workflowId = vaultLeaseWorkflowId(key.integration, key.vaultId, key.groupId);
      // The entity acts only on messages with this MAC, which only workers can make (trust/internal-message.ts).
      const request = withMac(deps.trust.internalKey, input.request, workflowId);
      const initial: VaultLeaseState = { ...key, holders: {}, granted: [], queue: [], generation: 0 };
      await deps.temporal.workflow.signalWithStart(VAULT_LEASE_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: Context.current().info.taskQueue,
        args: [initial],
        signal: leaseRequestSignal,
        signalArgs: [request],
        staticSummary: `Vault lease: group ${key.groupId} on vault ${key.vaultId} (${key.integration})`,
      });
      log('vault lease message sent', { op: request.op, vaultId: key.vaultId, groupId: key.groupId });
    },
  };
}
