import type { AccessRequestState } from '../../contracts/request';
import type { LocalShareLink, LocalState } from '../../onepassword/local/state';
import { type ChaosObservation, type ChaosRequest, judgeChaos, type ObservedWorkflow } from './chaos-verdict';

const PROMISED = '2026-11-27T22:00:00.000Z';

function finalState(status: AccessRequestState['status'], granted = true, unreceivedLinks = 0): AccessRequestState {
  return {
    status,
    ...(granted
      ? {
          grant: {
            grantedAt: '2026-11-27T21:00:00.000Z',
            endsAt: '2026-11-27T21:00:05.000Z',
            providerExpiresAt: PROMISED,
            guarantee: { mode: 'share-link', statement: 'viewable once' },
            ...(unreceivedLinks > 0 && { unreceivedLinks }),
          },
        }
      : {}),
  } as AccessRequestState;
}

function link(requestId: string, id: string, expiresAt = PROMISED, createdAt?: string): LocalShareLink {
  return { id, reference: `AccessRequest:${requestId}:grant`, expiresAt, createdAt } as LocalShareLink;
}

/** A clean run: a share-link request, a rotate-on-revoke request and a vault-group request, all ended. */
function cleanRun(): ChaosObservation {
  const requests: ChaosRequest[] = [
    { index: 0, mode: 'share-link', earlyRevoke: false, requestId: 'req_a', apiFinalStatus: 'EXPIRED', errors: [] },
    {
      index: 1,
      mode: 'rotate-on-revoke',
      earlyRevoke: true,
      requestId: 'req_b',
      apiFinalStatus: 'REVOKED',
      errors: [],
    },
    { index: 2, mode: 'vault-group', earlyRevoke: false, requestId: 'req_c', apiFinalStatus: 'EXPIRED', errors: [] },
  ];
  const workflows = new Map<string, ObservedWorkflow>([
    ['req_a', { kind: 'closed', closeStatus: 'COMPLETED', final: finalState('EXPIRED') }],
    ['req_b', { kind: 'closed', closeStatus: 'COMPLETED', final: finalState('REVOKED') }],
    ['req_c', { kind: 'closed', closeStatus: 'COMPLETED', final: finalState('EXPIRED') }],
  ]);
  const onePassword: Pick<LocalState, 'shareLinks' | 'rotations' | 'vaults'> = {
    shareLinks: [link('req_a', 'shr_1'), link('req_b', 'shr_2')],
    rotations: [{ reference: 'AccessRequest:req_b:rotate', vaultId: 'v', itemId: 'i', version: 2, at: PROMISED }],
    vaults: [{ id: 'vlt_oncall', title: 'On-call', createdByServiceAccount: true, groupPermissions: [] }],
  };
  return {
    requests,
    workflowIds: ['AccessRequest:req_a', 'AccessRequest:req_b', 'AccessRequest:req_c'],
    workflows,
    onePassword,
    leaseHolders: 0,
  };
}

describe(judgeChaos.name, () => {
  it('passes a run where every request ended as asked and 1Password agrees', () => {
    const sut = judgeChaos(cleanRun());
    expect(sut.passed).toBe(true);
    expect(sut.finalStatuses).toEqual({ EXPIRED: 2, REVOKED: 1 });
  });

  it('counts an acknowledged request without a workflow as lost', () => {
    const run = cleanRun();
    run.workflows.delete('req_a');
    const sut = judgeChaos(run);
    expect(sut.counts.lost).toBe(1);
    expect(sut.passed).toBe(false);
  });

  it('counts a request the API never acknowledged', () => {
    const run = cleanRun();
    run.requests.push({ index: 3, mode: 'share-link', earlyRevoke: false, errors: ['create: 503'] });
    expect(judgeChaos(run).counts.notAccepted).toBe(1);
  });

  it('counts a workflow still running at the end as unfinished', () => {
    const run = cleanRun();
    run.workflows.set('req_c', { kind: 'running' });
    expect(judgeChaos(run).counts.unfinished).toBe(1);
  });

  it('counts a FAILED request and a request whose API status disagrees as unexpected ends', () => {
    const run = cleanRun();
    run.workflows.set('req_a', { kind: 'closed', closeStatus: 'COMPLETED', final: finalState('FAILED', false) });
    run.onePassword.shareLinks = [link('req_b', 'shr_2')];
    expect(judgeChaos(run).counts.unexpectedEnd).toBe(2);
  });

  it('counts a second link for one request that nothing explains as a duplicate grant', () => {
    const run = cleanRun();
    run.onePassword.shareLinks.push(link('req_a', 'shr_3', '2026-11-27T21:59:58.000Z'));
    const sut = judgeChaos(run);
    expect(sut.counts.duplicateGrants).toBe(1);
    expect(sut.counts.unreceivedLinks).toBe(1);
  });

  it('counts two links carrying the promised expiry as a duplicate, whatever the workflow counted', () => {
    const run = cleanRun();
    run.workflows.set('req_a', { kind: 'closed', closeStatus: 'COMPLETED', final: finalState('EXPIRED', true, 1) });
    run.onePassword.shareLinks.push(link('req_a', 'shr_3'));
    expect(judgeChaos(run).counts.duplicateGrants).toBe(1);
  });

  it('accepts a link nobody received when the workflow counted a lost answer or an operator reset the request', () => {
    const run = cleanRun();
    run.workflows.set('req_a', { kind: 'closed', closeStatus: 'COMPLETED', final: finalState('EXPIRED', true, 1) });
    run.onePassword.shareLinks.push(link('req_a', 'shr_3', '2026-11-27T21:59:58.000Z'));
    run.onePassword.shareLinks.push(link('req_b', 'shr_4', '2026-11-27T21:59:57.000Z'));
    run.resets = new Map([['req_b', 1]]);
    const sut = judgeChaos(run);
    expect(sut.passed).toBe(true);
    expect(sut.counts.unreceivedLinks).toBe(2);
  });

  it('accepts the links a reset run made before the reset, which its count took along, and no more', () => {
    // What a CI run met: two calls that took effect and then failed, counted by the run an operator then reset;
    // the new run's grant met one more and counted it.
    const run = cleanRun();
    const resetAt = Date.parse('2026-11-27T21:00:30.000Z');
    const at = (ms: number) => new Date(ms).toISOString();
    run.workflows.set('req_a', { kind: 'closed', closeStatus: 'COMPLETED', final: finalState('EXPIRED', true, 1) });
    run.onePassword.shareLinks[0] = link('req_a', 'shr_1', PROMISED, at(resetAt + 2_000));
    run.onePassword.shareLinks.push(link('req_a', 'shr_2', '2026-11-27T21:59:00.000Z', at(resetAt - 27_000)));
    run.onePassword.shareLinks.push(link('req_a', 'shr_3', '2026-11-27T21:59:01.000Z', at(resetAt - 13_000)));
    run.onePassword.shareLinks.push(link('req_a', 'shr_4', '2026-11-27T21:59:02.000Z', at(resetAt + 500)));
    run.resets = new Map([['req_a', 1]]);
    run.lastResetAt = new Map([['req_a', resetAt]]);
    const sut = judgeChaos(run);
    expect(sut.counts.duplicateGrants).toBe(0);
    expect(sut.counts.unreceivedLinks).toBe(3);
    // Two more after the reset than the new run counted: one is the replaced run's call in flight, not both.
    run.onePassword.shareLinks.push(link('req_a', 'shr_5', '2026-11-27T21:59:03.000Z', at(resetAt + 900)));
    run.onePassword.shareLinks.push(link('req_a', 'shr_6', '2026-11-27T21:59:04.000Z', at(resetAt + 1_200)));
    expect(judgeChaos(run).counts.duplicateGrants).toBe(1);
  });

  it('counts a rotation repeated after a lost answer, and does not call it a duplicate', () => {
    const run = cleanRun();
    run.onePassword.rotations.push({ ...run.onePassword.rotations[0], version: 3 });
    const sut = judgeChaos(run);
    expect(sut.passed).toBe(true);
    expect(sut.counts.extraRotations).toBe(1);
  });

  it('counts a workflow that no client was answered for as a duplicate', () => {
    const run = cleanRun();
    run.workflowIds.push('AccessRequest:req_z');
    expect(judgeChaos(run).counts.duplicateGrants).toBe(1);
  });

  it('counts group permissions and lease holders that outlive every grant as left behind', () => {
    const run = cleanRun();
    run.onePassword.vaults[0].groupPermissions.push({
      groupId: 'grp_engineering',
      permissions: ['read_items'],
      grantedAt: PROMISED,
      updatedAt: PROMISED,
    });
    run.leaseHolders = 1;
    expect(judgeChaos(run).counts.grantsLeftBehind).toBe(2);
  });

  it('counts a rotate-on-revoke grant that ended without a rotation as left behind', () => {
    const run = cleanRun();
    run.onePassword.rotations = [];
    expect(judgeChaos(run).counts.grantsLeftBehind).toBe(1);
  });

  it('counts a rotate-on-revoke request terminated after its link was made, and never rotated, as left behind', () => {
    const run = cleanRun();
    run.terminated = new Set(['req_b']);
    expect(judgeChaos(run).counts.grantsLeftBehind).toBe(0);
    run.onePassword.rotations = [];
    expect(judgeChaos(run).counts.grantsLeftBehind).toBe(1);
  });

  it('counts a share link that outlives what the request promised as left behind', () => {
    const run = cleanRun();
    run.onePassword.shareLinks[0] = link('req_a', 'shr_1', '2026-12-04T21:00:00.000Z');
    expect(judgeChaos(run).counts.grantsLeftBehind).toBe(1);
  });

  it('accepts a link nobody received made just after the delivered one, living no longer (a reset run finishing late)', () => {
    const run = cleanRun();
    run.resets = new Map([['req_a', 1]]);
    const HOUR = 3_600_000;
    const at = (ms: number) => new Date(ms).toISOString();
    const createdAt = Date.parse(PROMISED) - HOUR;
    run.onePassword.shareLinks[0] = link('req_a', 'shr_1', PROMISED, at(createdAt));
    run.onePassword.shareLinks.push(link('req_a', 'shr_late', at(createdAt + 576 + HOUR), at(createdAt + 576)));
    const sut = judgeChaos(run);
    expect(sut.counts.grantsLeftBehind).toBe(0);
    expect(sut.counts.unreceivedLinks).toBe(1);
    // Living longer than the delivered one is a grant beyond the promise, whoever made it.
    run.onePassword.shareLinks[1] = link('req_a', 'shr_late', at(createdAt + 576 + 2 * HOUR), at(createdAt + 576));
    expect(judgeChaos(run).counts.grantsLeftBehind).toBe(1);
  });

  it('counts a share link of no request of the run as left behind', () => {
    const run = cleanRun();
    run.onePassword.shareLinks.push(link('req_q', 'shr_9'));
    expect(judgeChaos(run).counts.grantsLeftBehind).toBe(1);
  });

  it('counts the link of a request that was never granted as one nobody received (no URL left 1Password)', () => {
    const run = cleanRun();
    run.workflows.set('req_a', { kind: 'closed', closeStatus: 'COMPLETED', final: finalState('CANCELLED', false) });
    run.requests[0].apiFinalStatus = 'CANCELLED';
    run.requests[0].earlyRevoke = true;
    const sut = judgeChaos(run);
    expect(sut.counts.unreceivedLinks).toBe(1);
    expect(sut.counts.grantsLeftBehind).toBe(0);
  });
});
