import type { Drift, ExplainedGrant, GrantObservation, ObservedPermission } from '../contracts/reconcile';

/**
 * The reconciler's comparison, pure: each group's permissions on each managed vault against the active
 * grants that need them. It proposes what to do; the reconcile workflow does it through the vault
 * lease, which owns the group's permissions.
 */
export function findDrift(observation: GrantObservation, dryRun: boolean): Drift[] {
  const repairs = new Map(observation.integrations.map((integration) => [integration.name, integration.repair]));
  const byKey = new Map<string, { observed?: ObservedPermission; grants: ExplainedGrant[] }>();
  const entry = (key: string) => byKey.get(key) ?? byKey.set(key, { grants: [] }).get(key)!;
  for (const observed of observation.permissions) {
    if (observed.permissions.length > 0) entry(keyOf(observed)).observed = observed;
  }
  for (const grant of observation.grants) entry(keyOf(grant)).grants.push(grant);

  const drifts: Drift[] = [];
  for (const { observed, grants } of byKey.values()) {
    const where = observed ?? grants[0];
    const base = { integration: where.integration, vaultId: where.vaultId, groupId: where.groupId };
    const held = observed?.permissions ?? [];
    const needed = [...new Set(grants.flatMap((grant) => grant.permissions))].sort();
    const requestIds = [...new Set(grants.map((grant) => grant.requestId ?? grant.leaseId))].sort();
    if (grants.length === 0) {
      const action = !repairs.get(base.integration) ? 'reported' : dryRun ? 'would-remove' : 'removed';
      drifts.push({ ...base, kind: 'unexplained', permissions: [...held].sort(), requestIds: [], action });
      continue;
    }
    const missing = needed.filter((permission) => !held.includes(permission));
    if (missing.length > 0)
      drifts.push({ ...base, kind: 'missing', permissions: missing, requestIds, action: 'reported' });
    const excess = held.filter((permission) => !needed.includes(permission)).sort();
    if (excess.length > 0)
      drifts.push({ ...base, kind: 'excess', permissions: excess, requestIds, action: 'reported' });
  }
  return drifts.sort((a, b) => `${keyOf(a)}:${a.kind}`.localeCompare(`${keyOf(b)}:${b.kind}`));
}

function keyOf(where: { integration: string; vaultId: string; groupId: string }): string {
  return `${where.integration}/${where.vaultId}/${where.groupId}`;
}
