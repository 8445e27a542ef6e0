import type { GrantObservation } from '../contracts/reconcile';
import { findDrift } from './reconcile';

const observation = (overrides: Partial<GrantObservation> = {}): GrantObservation => ({
  at: '2026-11-29T00:00:00.000Z',
  integrations: [
    { name: 'demo', repair: true },
    { name: 'audit-only', repair: false },
  ],
  vaultsRead: 2,
  permissions: [],
  grants: [],
  unrotated: [],
  ...overrides,
});
const where = { integration: 'demo', vaultId: 'vlt_oncall', groupId: 'grp_engineering' };
const grant = (requestId: string, permissions: string[]) => ({
  ...where,
  leaseId: `AccessRequest:${requestId}`,
  requestId,
  permissions,
  endsAt: '2026-11-29T08:00:00.000Z',
});

describe(findDrift.name, () => {
  it('finds nothing when every permission is explained by an active grant', () => {
    const sut = findDrift(
      observation({
        permissions: [{ ...where, permissions: ['read_items'] }],
        grants: [grant('req_a', ['read_items'])],
      }),
      false,
    );
    expect(sut).toEqual([]);
  });

  it('names a permission nobody holds as unexplained: removed, or would-remove in a dry run', () => {
    const obs = observation({ permissions: [{ ...where, permissions: ['reveal_item_password', 'read_items'] }] });
    const expected = {
      ...where,
      kind: 'unexplained',
      permissions: ['read_items', 'reveal_item_password'],
      requestIds: [],
    };
    expect(findDrift(obs, false)).toEqual([{ ...expected, action: 'removed' }]);
    expect(findDrift(obs, true)).toEqual([{ ...expected, action: 'would-remove' }]);
  });

  it('only reports for an integration set to report', () => {
    const obs = observation({ permissions: [{ ...where, integration: 'audit-only', permissions: ['read_items'] }] });
    expect(findDrift(obs, false)).toEqual([expect.objectContaining({ kind: 'unexplained', action: 'reported' })]);
  });

  it('reports active grants whose permissions are missing, and permissions beyond what they need', () => {
    const missing = findDrift(observation({ grants: [grant('req_a', ['read_items'])] }), false);
    expect(missing).toEqual([
      { ...where, kind: 'missing', permissions: ['read_items'], requestIds: ['req_a'], action: 'reported' },
    ]);
    const excess = findDrift(
      observation({
        permissions: [{ ...where, permissions: ['read_items', 'reveal_item_password'] }],
        grants: [grant('req_a', ['read_items']), grant('req_b', ['read_items'])],
      }),
      false,
    );
    expect(excess).toEqual([
      {
        ...where,
        kind: 'excess',
        permissions: ['reveal_item_password'],
        requestIds: ['req_a', 'req_b'],
        action: 'reported',
      },
    ]);
  });

  it('counts a lease holder whose request was terminated as explaining nothing, and names it to drop', () => {
    const stale = { ...grant('req_gone', ['read_items']), closed: true };
    expect(
      findDrift(observation({ permissions: [{ ...where, permissions: ['read_items'] }], grants: [stale] }), false),
    ).toEqual([
      {
        ...where,
        kind: 'unexplained',
        permissions: ['read_items'],
        requestIds: [],
        staleHolders: ['AccessRequest:req_gone'],
        action: 'removed',
      },
    ]);
  });

  it('rotates the secret of a terminated rotate-on-revoke request (or would, in a dry run)', () => {
    const unrotated = [
      {
        integration: 'demo',
        vaultId: 'vlt_prod',
        itemId: 'itm_stripe_key',
        workflowId: 'AccessRequest:req_t',
        requestId: 'req_t',
      },
    ];
    expect(findDrift(observation({ unrotated }), false)).toEqual([
      {
        kind: 'unrotated',
        integration: 'demo',
        vaultId: 'vlt_prod',
        itemId: 'itm_stripe_key',
        permissions: [],
        requestIds: ['req_t'],
        action: 'rotated',
      },
    ]);
    expect(findDrift(observation({ unrotated }), true)[0].action).toBe('would-rotate');
  });

  it('tells a lease to drop holders whose requests were terminated, even when 1Password holds nothing for them', () => {
    const stale = { ...grant('req_gone', ['read_items']), closed: true };
    expect(findDrift(observation({ grants: [stale] }), false)).toEqual([
      {
        ...where,
        kind: 'stale-holders',
        permissions: [],
        requestIds: [],
        staleHolders: ['AccessRequest:req_gone'],
        action: 'removed',
      },
    ]);
  });
});
