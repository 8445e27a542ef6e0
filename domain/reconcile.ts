import type { Drift, ExplainedGrant, GrantObservation, ObservedPermission } from '../contracts/reconcile';

/**
 * The reconciler's comparison, pure: each group's permissions on each managed vault against the active
 * grants that need them, and the secrets of terminated rotate-on-revoke requests. It proposes what to
 * do; the reconcile workflow does it, through the vault lease for permissions (it owns them).
 */
export function findDrift(observation: GrantObservation, dryRun: boolean): Drift[] {
  const repairs = new Map(observation.integrations.map((integration) => [integration.name, integration.repair]));
  const actionFor = (integration: string, done: Drift['action'], dry: Drift['action']): Drift['action'] =>
    !repairs.get(integration) ? 'reported' : dryRun ? dry : done;

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
    const live = grants.filter((grant) => !grant.closed);
    const staleHolders = grants.filter((grant) => grant.closed).map((grant) => grant.leaseId);
    if (live.length === 0) {
      if (held.length === 0) {
        if (staleHolders.length === 0) continue;
        const action = actionFor(base.integration, 'removed', 'would-remove');
        drifts.push({ ...base, kind: 'stale-holders', permissions: [], requestIds: [], staleHolders, action });
        continue;
      }
      const action = actionFor(base.integration, 'removed', 'would-remove');
      const unexplained: Drift = {
        ...base,
        kind: 'unexplained',
        permissions: [...held].sort(),
        requestIds: [],
        action,
      };
      drifts.push(staleHolders.length > 0 ? { ...unexplained, staleHolders } : unexplained);
      continue;
    }
    const needed = [...new Set(live.flatMap((grant) => grant.permissions))].sort();
    const requestIds = [...new Set(live.map((grant) => grant.requestId ?? grant.leaseId))].sort();
    const missing = needed.filter((permission) => !held.includes(permission));
    if (missing.length > 0)
      drifts.push({ ...base, kind: 'missing', permissions: missing, requestIds, action: 'reported' });
    const excess = held.filter((permission) => !needed.includes(permission)).sort();
    if (excess.length > 0)
      drifts.push({ ...base, kind: 'excess', permissions: excess, requestIds, action: 'reported' });
  }
  for (const grant of observation.unrotated) {
    drifts.push({
      kind: 'unrotated',
      integration: grant.integration,
      vaultId: grant.vaultId,
      ...(grant.login ? { loginRole: grant.login.role } : { itemId: grant.itemId }),
      permissions: [],
      requestIds: [grant.requestId],
      action: actionFor(grant.integration, 'rotated', 'would-rotate'),
    });
  }
  return drifts.sort((a, b) => `${placeOf(a)}:${a.kind}`.localeCompare(`${placeOf(b)}:${b.kind}`));
}

function keyOf(where: { integration: string; vaultId: string; groupId: string }): string {
  return `${where.integration}/${where.vaultId}/${where.groupId}`;
}

function placeOf(drift: Drift): string {
  return `${drift.integration}/${drift.vaultId}/${drift.groupId ?? drift.itemId ?? ''}`;
}
