import type { AccessRequestState, RequestStatus } from '../../contracts/request';
import type { LocalState } from '../../onepassword/local/state';

/**
 * The chaos run's verdict, as a pure function of what was observed at the end: the clients' view of
 * each request, the workflows in Temporal, and the local 1Password's state. Kept apart from the run so
 * that a unit test can prove each kind of finding is really detected.
 */
export interface ChaosRequest {
  index: number;
  mode: 'share-link' | 'rotate-on-revoke' | 'vault-group';
  earlyRevoke: boolean;
  /** Set once the API acknowledged the create. */
  requestId?: string;
  /** The last status a client read through the API; TERMINATED when an operator terminated it. */
  apiFinalStatus?: RequestStatus | 'TERMINATED';
  errors: string[];
}

export type ObservedWorkflow =
  { kind: 'missing' } | { kind: 'running' } | { kind: 'closed'; closeStatus: string; final?: AccessRequestState };

export interface ChaosObservation {
  requests: ChaosRequest[];
  /** Ids of every access-request workflow in the namespace. */
  workflowIds: string[];
  /** By request id, for every acknowledged request. */
  workflows: Map<string, ObservedWorkflow>;
  onePassword: Pick<LocalState, 'shareLinks' | 'rotations' | 'vaults'>;
  /** Holders the vault-lease entity still counts, when there is one. */
  leaseHolders?: number;
  /** Requests an operator terminated on purpose (their workflow ends TERMINATED, and that is expected). */
  terminated?: ReadonlySet<string>;
  /** Resets per request: a reset mid-grant re-runs the grant, whose earlier call may have made a link. */
  resets?: ReadonlyMap<string, number>;
  /** When each reset request was last reset (epoch ms, taken before the call). */
  lastResetAt?: ReadonlyMap<string, number>;
  /** Active grants whose permission 1Password did not hold, as the final reconcile pass found them. */
  missingPermissions?: number;
}

export interface Finding {
  requestId?: string;
  agent?: number;
  what: string;
}

export interface ChaosVerdict {
  counts: {
    requests: number;
    acknowledged: number;
    workflows: number;
    notAccepted: number;
    lost: number;
    unfinished: number;
    unexpectedEnd: number;
    grantsLeftBehind: number;
    duplicateGrants: number;
    activeGrantsWithoutPermission: number;
    /** Links whose URL never left 1Password (their call's answer was lost), each accounted for. */
    unreceivedLinks: number;
    /** Rotations beyond the first for one grant (a retried rotation whose earlier answer was lost): harmless. */
    extraRotations: number;
  };
  finalStatuses: Record<string, number>;
  findings: Record<'notAccepted' | 'lost' | 'unfinished' | 'unexpectedEnd' | 'leftBehind' | 'duplicates', Finding[]>;
  passed: boolean;
}

const REQUEST_OF_KEY = /^AccessRequest:([^:]+):/;

export function judgeChaos(obs: ChaosObservation): ChaosVerdict {
  const notAccepted: Finding[] = [];
  const lost: Finding[] = [];
  const unfinished: Finding[] = [];
  const unexpectedEnd: Finding[] = [];
  const leftBehind: Finding[] = [];
  const duplicates: Finding[] = [];
  const finalStatuses: Record<string, number> = {};
  const acknowledged = new Map<string, ChaosRequest>();

  for (const request of obs.requests) {
    if (!request.requestId) {
      notAccepted.push({ agent: request.index, what: `never accepted: ${request.errors.slice(-2).join('; ')}` });
    } else {
      acknowledged.set(request.requestId, request);
    }
  }

  // More workflows than acknowledged requests: a retried create made a second request.
  for (const workflowId of obs.workflowIds) {
    const requestId = workflowId.replace(/^AccessRequest:/, '');
    if (!acknowledged.has(requestId)) duplicates.push({ requestId, what: 'a workflow no client was answered for' });
  }

  const finals = new Map<string, AccessRequestState>();
  for (const [requestId, request] of acknowledged) {
    const workflow = obs.workflows.get(requestId) ?? { kind: 'missing' };
    if (workflow.kind === 'missing') {
      lost.push({ requestId, agent: request.index, what: 'acknowledged, but no workflow exists' });
      continue;
    }
    if (obs.terminated?.has(requestId)) {
      finalStatuses.TERMINATED = (finalStatuses.TERMINATED ?? 0) + 1;
      continue;
    }
    if (workflow.kind === 'running') {
      const saw = request.errors.slice(-2).join('; ') || 'nothing wrong';
      unfinished.push({ requestId, agent: request.index, what: `still running at the end; clients last saw: ${saw}` });
      continue;
    }
    if (workflow.closeStatus !== 'COMPLETED' || !workflow.final) {
      unexpectedEnd.push({ requestId, agent: request.index, what: `workflow ${workflow.closeStatus}` });
      continue;
    }
    const final = workflow.final;
    finals.set(requestId, final);
    finalStatuses[final.status] = (finalStatuses[final.status] ?? 0) + 1;
    const allowed: RequestStatus[] = request.earlyRevoke ? ['REVOKED', 'EXPIRED'] : ['EXPIRED'];
    // A vault deleted by an administrator while a grant was being made refuses it: FAILED, nothing granted.
    const vaultGone = request.mode === 'vault-group' && final.failure?.code === 'OnePassword.not-found';
    if (!allowed.includes(final.status) && !(final.status === 'FAILED' && vaultGone)) {
      const why = final.failure ? ` (${final.failure.code}: ${final.failure.message})` : '';
      unexpectedEnd.push({ requestId, agent: request.index, what: `ended ${final.status}${why}` });
    }
    if (request.apiFinalStatus && request.apiFinalStatus !== final.status) {
      unexpectedEnd.push({
        requestId,
        what: `the API said ${request.apiFinalStatus}, the workflow ended ${final.status}`,
      });
    }
  }

  // Share links and rotations, attributed to requests by the reference the local 1Password records.
  const linksByRequest = new Map<string, LocalState['shareLinks']>();
  for (const link of obs.onePassword.shareLinks) {
    const requestId = REQUEST_OF_KEY.exec(link.reference)?.[1];
    if (!requestId || !acknowledged.has(requestId)) {
      leftBehind.push({ requestId, what: `share link ${link.id} belongs to no request of this run` });
      continue;
    }
    linksByRequest.set(requestId, [...(linksByRequest.get(requestId) ?? []), link]);
  }
  const rotationsByRequest = new Map<string, number>();
  for (const rotation of obs.onePassword.rotations) {
    const requestId = REQUEST_OF_KEY.exec(rotation.reference)?.[1];
    if (!requestId || !acknowledged.has(requestId)) {
      leftBehind.push({ requestId, what: `rotation ${rotation.reference} belongs to no request of this run` });
      continue;
    }
    rotationsByRequest.set(requestId, (rotationsByRequest.get(requestId) ?? 0) + 1);
  }
  let unreceivedLinks = 0;
  let extraRotations = 0;
  for (const [requestId, request] of acknowledged) {
    const final = finals.get(requestId);
    const links = linksByRequest.get(requestId) ?? [];
    const granted = !!final?.grant;
    if (request.mode === 'share-link' || request.mode === 'rotate-on-revoke') {
      // The link handed out is the one whose expiry the request promised; any other was never received (a
      // request that was never granted handed none out). What can explain such a link: a call of this run whose
      // answer was lost (the workflow counts them), or a reset that re-ran the grant: every link the replaced run
      // made before the reset (its count went with that run's activity), and one call still in flight then. A
      // granted request with more is a second link made while one was known.
      const promised = final?.grant?.providerExpiresAt;
      const delivered = links.filter((link) => promised !== undefined && link.expiresAt === promised);
      const unreceived = links.length - delivered.length;
      unreceivedLinks += unreceived;
      const resetAt = obs.lastResetAt?.get(requestId);
      const madeBeforeReset =
        resetAt === undefined
          ? 0
          : links.filter((link) => !delivered.includes(link) && Date.parse(link.createdAt) <= resetAt).length;
      const explained = (final?.grant?.unreceivedLinks ?? 0) + (obs.resets?.get(requestId) ?? 0) + madeBeforeReset;
      if (delivered.length > 1 || (granted && unreceived > explained)) {
        duplicates.push({
          requestId,
          what: `${links.length} share links for one request, ${explained} explained by lost answers or resets`,
        });
      }
      if (final && granted && delivered.length === 0) {
        unexpectedEnd.push({ requestId, what: 'the request says granted, but 1Password has not the link it promised' });
      }
      for (const link of links) {
        if (!promised || Date.parse(link.expiresAt) <= Date.parse(promised)) continue;
        // A link nobody received, made for this grant just after the delivered one and living no longer: an attempt
        // of a run that an operator's reset replaced, finishing after the new run's (its answer went nowhere, so its
        // URL never left 1Password). Nobody can open it; a longer-lived one would be a grant beyond the promise.
        if (delivered.length === 1 && !delivered.includes(link) && lifetime(link) <= lifetime(delivered[0])) continue;
        leftBehind.push({ requestId, what: `share link lives until ${link.expiresAt}, promised ${promised}` });
      }
    } else if (links.length > 0) {
      leftBehind.push({ requestId, what: `a ${request.mode} request made ${links.length} share link(s)` });
    }
    const rotations = rotationsByRequest.get(requestId) ?? 0;
    if (request.mode === 'rotate-on-revoke') {
      extraRotations += Math.max(0, rotations - 1);
      if (final && granted && rotations === 0) {
        leftBehind.push({ requestId, what: 'the grant ended, but the secret was never rotated' });
      }
      // Terminated by an operator after its link was made: the reconciler must have rotated the secret.
      if (obs.terminated?.has(requestId) && links.length > 0 && rotations === 0) {
        leftBehind.push({ requestId, what: 'terminated after its link was made, but the secret was never rotated' });
      }
    } else if (rotations > 0) {
      duplicates.push({ requestId, what: `a ${request.mode} request rotated the secret` });
    }
  }

  // Vault-group: once every request has ended, nobody may hold permissions on a vault.
  if (unfinished.length === 0) {
    for (const vault of obs.onePassword.vaults) {
      for (const entry of vault.groupPermissions) {
        leftBehind.push({
          what: `group ${entry.groupId} still holds ${entry.permissions.join(',')} on ${vault.id} after every grant ended`,
        });
      }
    }
    if (obs.leaseHolders && obs.leaseHolders > 0) {
      leftBehind.push({ what: `the vault lease still counts ${obs.leaseHolders} holder(s) after every grant ended` });
    }
  }

  const counts = {
    requests: obs.requests.length,
    acknowledged: acknowledged.size,
    workflows: obs.workflowIds.length,
    notAccepted: notAccepted.length,
    lost: lost.length,
    unfinished: unfinished.length,
    unexpectedEnd: unexpectedEnd.length,
    grantsLeftBehind: leftBehind.length,
    duplicateGrants: duplicates.length,
    activeGrantsWithoutPermission: obs.missingPermissions ?? 0,
    unreceivedLinks,
    extraRotations,
  };
  const bad =
    counts.notAccepted +
    counts.lost +
    counts.unfinished +
    counts.unexpectedEnd +
    counts.grantsLeftBehind +
    counts.duplicateGrants;
  return {
    counts,
    finalStatuses,
    findings: { notAccepted, lost, unfinished, unexpectedEnd, leftBehind, duplicates },
    passed: bad === 0,
  };
}

/** How long 1Password serves a link, from its creation (NaN when not recorded: then never "no longer"). */
function lifetime(link: { createdAt?: string; expiresAt: string }): number {
  return Date.parse(link.expiresAt) - Date.parse(link.createdAt ?? '');
}
