import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { vaultLeaseWorkflowId } from '../../domain/ids';
import type { LocalOnePassword } from '../../onepassword/local/local-onepassword';
import type { LocalState } from '../../onepassword/local/state';

/**
 * What operators and administrators really do to a running system, for the chaos run: terminate or
 * reset a request's workflow or a vault lease in the Temporal UI, delete a vault in 1Password, revoke
 * the service account's token. Each returns what it did, for the run's timeline.
 */
export class Operator {
  readonly terminated = new Set<string>();
  /** Resets per request workflow: each may re-run a grant whose earlier call made a link nobody received. */
  readonly reset = new Map<string, number>();
  /**
   * When each request was last reset (before the call): the replaced run's links made until then were counted in
   * that run's activity, whose heartbeat details the reset dropped.
   */
  readonly lastResetAt = new Map<string, number>();
  readonly counts = { terminations: 0, resets: 0, leaseTerminations: 0, vaultDeletions: 0, tokenRevocations: 0 };

  constructor(
    private readonly client: Client,
    private readonly onePassword: LocalOnePassword,
  ) {}

  /** A request whose grant is being made, held or ended right now (mid-grant and mid-revoke), if any. */
  async pickRequest(preferEnding: boolean): Promise<string | undefined> {
    const statuses = preferEnding ? ["'ENDING'", "'APPROVED'", "'ACTIVE'"] : ["'APPROVED'", "'ACTIVE'", "'ENDING'"];
    for (const status of statuses) {
      const candidates: string[] = [];
      const query = `WorkflowType = 'accessRequestWorkflow' AND ExecutionStatus = 'Running' AND LatchkeyStatus = ${status}`;
      for await (const execution of this.client.workflow.list({ query, pageSize: 50 })) {
        if (!this.terminated.has(execution.workflowId)) candidates.push(execution.workflowId);
        if (candidates.length >= 50) break;
      }
      if (candidates.length > 0) return candidates[Math.floor(Math.random() * candidates.length)];
    }
    return undefined;
  }

  async terminateRequest(workflowId: string): Promise<string> {
    this.terminated.add(workflowId);
    await this.client.workflow.getHandle(workflowId).terminate('chaos: an operator terminated this request');
    this.counts.terminations += 1;
    return `terminated ${workflowId}`;
  }

  /** Resets a request to its last completed workflow task, as the Temporal UI's "reset" does. */
  async resetRequest(workflowId: string): Promise<string> {
    const history = await this.client.workflow.getHandle(workflowId).fetchHistory();
    const completed = (history.events ?? []).filter((event) => event.workflowTaskCompletedEventAttributes);
    const last = completed.at(-1)?.eventId;
    if (!last) return `not reset ${workflowId}: no completed workflow task yet`;
    const resetAt = Date.now();
    await this.client.workflowService.resetWorkflowExecution({
      namespace: this.client.options.namespace,
      workflowExecution: { workflowId },
      reason: 'chaos: an operator reset this request',
      workflowTaskFinishEventId: last,
      requestId: randomUUID(),
    });
    this.counts.resets += 1;
    this.reset.set(workflowId, (this.reset.get(workflowId) ?? 0) + 1);
    this.lastResetAt.set(workflowId, resetAt);
    return `reset ${workflowId} to event ${String(last)}`;
  }

  async terminateLease(): Promise<string> {
    const id = vaultLeaseWorkflowId('demo', 'vlt_oncall', 'grp_engineering');
    try {
      await this.client.workflow.getHandle(id).terminate('chaos: an operator terminated the vault lease');
      this.counts.leaseTerminations += 1;
      return `terminated ${id}`;
    } catch {
      return `no running ${id} to terminate`;
    }
  }

  /** An administrator deletes the vault (and every permission on it), then brings it back empty. */
  async deleteVaultFor(vaultId: string, ms: number): Promise<string> {
    let saved: LocalState['vaults'][number] | undefined;
    await this.onePassword.administer((state) => {
      saved = state.vaults.find((vault) => vault.id === vaultId);
      state.vaults = state.vaults.filter((vault) => vault.id !== vaultId);
    });
    this.counts.vaultDeletions += 1;
    await new Promise((resolve) => setTimeout(resolve, ms));
    await this.onePassword.administer((state) => {
      if (saved && !state.vaults.some((vault) => vault.id === vaultId)) {
        state.vaults.push({ ...saved, groupPermissions: [] });
      }
    });
    return `deleted ${vaultId} for ${ms} ms, then created it again (empty)`;
  }

  /** The token is revoked, then a new one is put in its place. */
  async revokeTokenFor(ms: number, setRevoked: (revoked: boolean) => Promise<void>): Promise<string> {
    await setRevoked(true);
    this.counts.tokenRevocations += 1;
    await new Promise((resolve) => setTimeout(resolve, ms));
    await setRevoked(false);
    return `token revoked for ${ms} ms, then restored`;
  }
}
