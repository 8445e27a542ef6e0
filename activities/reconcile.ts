import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type Client, type WorkflowExecutionInfo, WorkflowNotFoundError } from '@temporalio/client';
import { payloadDecoder } from '../codec/payload-decoder';
import { ADMINS } from '../contracts/notifications';
import type {
  ExplainedGrant,
  GrantObservation,
  ObservedPermission,
  ReconcileReport,
  UnrotatedGrant,
} from '../contracts/reconcile';
import type { AccessRequestInput } from '../contracts/request';
import { SA_GRANT_ENDS_AT } from '../contracts/search-attributes';
import { leaseStateQuery, VAULT_LEASE_WORKFLOW_TYPE } from '../contracts/vault-lease';
import {
  databaseLoginItemTitle,
  databaseLoginRole,
  requestIdFromWorkflowId,
  terminatedRotationWorkflowId,
} from '../domain/ids';
import type { ActivityContext } from './context';
import { callOnePassword } from './failures';

/** Requests whose grant exists or may be being made: the ones that explain a permission. */
const ACTIVE_REQUESTS =
  "WorkflowType = 'accessRequestWorkflow' AND ExecutionStatus = 'Running' AND LatchkeyStatus IN ('APPROVED', 'ACTIVE', 'ENDING')";
const RUNNING_LEASES = `WorkflowType = '${VAULT_LEASE_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
/** Requests terminated while their grant was made or being made (the status they last published). */
const TERMINATED_WITH_ACCESS =
  "WorkflowType = 'accessRequestWorkflow' AND ExecutionStatus = 'Terminated' AND LatchkeyStatus IN ('APPROVED', 'ACTIVE', 'ENDING')";
/** How far back a pass looks for terminated requests; passes run every few minutes. */
const UNROTATED_LOOKBACK_MS = 24 * 3_600_000;

/** The reconciler's reads (1Password, visibility, the leases) and its report (metrics, admins). */
export function reconcileActivities(deps: ActivityContext) {
  return {
    /** What 1Password grants on every managed vault, and every grant latchkey's leases and requests explain. */
    async observeGrants(): Promise<GrantObservation> {
      const temporal = deps.temporal;
      if (!temporal) throw ApplicationFailure.nonRetryable('the reconciler needs a Temporal client');
      const integrations = deps.integrations ?? [];
      const permissions: ObservedPermission[] = [];
      let vaultsRead = 0;
      for (const { name } of integrations) {
        const port = deps.onePassword(name);
        const managed = (await callOnePassword(() => port.listVaults())).filter(
          (vault) => vault.createdByServiceAccount,
        );
        for (const vault of managed) {
          const entries = await callOnePassword(() => port.listGroupPermissions(vault.id));
          permissions.push(...entries.map((entry) => ({ integration: name, vaultId: vault.id, ...entry })));
          vaultsRead += 1;
          Context.current().heartbeat();
        }
      }
      const grants = [...(await leaseHolders(temporal)), ...(await activeRequestGrants(temporal, deps.clock()))];
      const unique = new Map(grants.map((grant) => [`${grant.leaseId}|${grant.vaultId}|${grant.groupId}`, grant]));
      return {
        at: deps.clock().toISOString(),
        integrations,
        vaultsRead,
        permissions,
        grants: [...unique.values()],
        unrotated: await unrotatedGrants(temporal, deps.clock()),
      };
    },

    /** Drift as metrics (`latchkey_drift_*`), and a notification to admins when there is any. */
    async recordReconcile(report: ReconcileReport): Promise<void> {
      const meter = Context.current().metricMeter;
      const gauge = meter.createGauge(
        'latchkey_drift_permissions',
        'int',
        '',
        'group permissions that differ from the grants',
      );
      const repairs = meter.createCounter('latchkey_drift_repairs', '', 'permissions the reconciler removed');
      for (const kind of ['unexplained', 'missing', 'excess', 'unrotated', 'stale-holders'] as const) {
        gauge.set(report.drifts.filter((drift) => drift.kind === kind).length, { kind });
      }
      repairs.add(report.drifts.filter((drift) => drift.action === 'removed' || drift.action === 'rotated').length);
      meter
        .createGauge('latchkey_drift_last_run', 'int', 's', 'when the reconciler last ran')
        .set(Date.parse(report.at) / 1000);
      if (report.drifts.length === 0) return;
      deps.logger.warn(
        { drifts: report.drifts.length, dryRun: report.dryRun },
        'drift between 1Password and the grants',
      );
      await deps.notifier.notify({
        kind: 'drift-found',
        eventId: `reconcile:${report.at}`,
        requestId: 'reconcile',
        resourceId: report.drifts[0].vaultId,
        integration: report.drifts[0].integration,
        recipients: [ADMINS],
        at: report.at,
        details: Object.fromEntries(
          (['unexplained', 'missing', 'excess', 'unrotated'] as const).map((kind) => [
            kind,
            report.drifts.filter((drift) => drift.kind === kind).length,
          ]),
        ),
      });
    },
  };
}

/** The holders every running vault lease counts: the leases own the permissions, and know best. */
async function leaseHolders(temporal: Client): Promise<ExplainedGrant[]> {
  const grants: ExplainedGrant[] = [];
  for await (const lease of temporal.workflow.list({ query: RUNNING_LEASES })) {
    const state = await temporal.workflow
      .getHandle(lease.workflowId)
      .query(leaseStateQuery)
      .catch(() => undefined);
    if (!state) continue;
    for (const [leaseId, holder] of Object.entries(state.holders)) {
      const closed = !(await isRunning(temporal, leaseId));
      grants.push({
        ...(closed ? { closed } : {}),
        integration: state.integration,
        vaultId: state.vaultId,
        groupId: state.groupId,
        leaseId,
        requestId: requestIdFromWorkflowId(leaseId),
        permissions: holder.permissions,
        endsAt: holder.endsAt ?? '9999-12-31T00:00:00.000Z',
      });
    }
    Context.current().heartbeat();
  }
  return grants;
}

/** Whether a holder's request workflow still runs: asked of the workflow itself, not of visibility (it lags). */
async function isRunning(temporal: Client, workflowId: string): Promise<boolean> {
  try {
    return (await temporal.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch {
    return false; // no such workflow
  }
}

/** Whether a pass rotated the secret of this terminated request, or is rotating it (not if it was stopped). */
async function rotatedOrRotating(temporal: Client, requestWorkflowId: string): Promise<boolean> {
  try {
    const { status } = await temporal.workflow.getHandle(terminatedRotationWorkflowId(requestWorkflowId)).describe();
    return status.name === 'COMPLETED' || status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

async function isLatestRun(temporal: Client, execution: WorkflowExecutionInfo): Promise<boolean> {
  const latest = await temporal.workflow.getHandle(execution.workflowId).describe();
  return latest.runId === execution.runId;
}

/**
 * Rotate-on-revoke requests an operator terminated while their grant was made or being made, in the last
 * day, whose secret no pass has rotated (each rotation is a workflow named after its request; the
 * namespace keeps it longer than a day, the shortest retention Temporal allows) or is rotating.
 */
async function unrotatedGrants(temporal: Client, now: Date): Promise<UnrotatedGrant[]> {
  const since = new Date(now.getTime() - UNROTATED_LOOKBACK_MS).toISOString();
  const query = `${TERMINATED_WITH_ACCESS} AND CloseTime > '${since}'`;
  const decode = payloadDecoder(temporal);
  const found: UnrotatedGrant[] = [];
  for await (const request of temporal.workflow.list({ query })) {
    if (request.memo?.grantMode !== 'rotate-on-revoke' && request.memo?.grantMode !== 'database-role') continue;
    // A reset terminates the run it replaces: the request goes on in a newer run, which ends access itself.
    if (!(await isLatestRun(temporal, request))) continue;
    if (await rotatedOrRotating(temporal, request.workflowId)) continue;
    const input = await pinnedInput(temporal, request, decode);
    const grant = input?.snapshot.grant;
    if (!input || grant?.mode === 'vault-group' || !grant) continue;
    const { snapshot, requestId } = input;
    const common = { integration: snapshot.integration.name, workflowId: request.workflowId, requestId };
    found.push(
      grant.mode === 'database-role'
        ? {
            ...common,
            resourceId: snapshot.resource.id,
            vaultId: grant.vaultId,
            itemId: '',
            login: {
              target: grant.target,
              role: databaseLoginRole(requestId),
              itemTitle: databaseLoginItemTitle(requestId),
            },
          }
        : {
            ...common,
            vaultId: grant.vaultId,
            itemId: grant.itemId,
            ...(grant.rotator && { resourceId: snapshot.resource.id, rotator: grant.rotator }),
          },
    );
    Context.current().heartbeat();
  }
  return found;
}

/** Vault-group grants of active requests, from visibility and each request's pinned input. */
async function activeRequestGrants(temporal: Client, now: Date): Promise<ExplainedGrant[]> {
  const decode = payloadDecoder(temporal);
  const grants: ExplainedGrant[] = [];
  for await (const request of temporal.workflow.list({ query: ACTIVE_REQUESTS })) {
    if (request.memo?.grantMode !== 'vault-group') continue;
    const input = await pinnedInput(temporal, request, decode);
    const grant = input?.snapshot.grant;
    if (!input || grant?.mode !== 'vault-group') continue;
    const endsAt = request.typedSearchAttributes.get(SA_GRANT_ENDS_AT)?.toISOString();
    grants.push({
      integration: input.snapshot.integration.name,
      vaultId: grant.vaultId,
      groupId: grant.groupId,
      leaseId: request.workflowId,
      requestId: input.requestId,
      permissions: grant.permissions,
      endsAt: endsAt ?? new Date(now.getTime() + input.snapshot.durationMs).toISOString(),
    });
    Context.current().heartbeat();
  }
  return grants;
}

async function pinnedInput(
  temporal: Client,
  request: WorkflowExecutionInfo,
  decode: ReturnType<typeof payloadDecoder>,
): Promise<AccessRequestInput | undefined> {
  const response = await temporal.workflowService.getWorkflowExecutionHistory({
    namespace: temporal.options.namespace,
    execution: { workflowId: request.workflowId, runId: request.runId },
    maximumPageSize: 1,
  });
  const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started) return undefined;
  const [input] = (await decode(started.input?.payloads)) as [AccessRequestInput];
  return input;
}
