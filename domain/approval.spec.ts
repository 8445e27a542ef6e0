import { alice, approval, carol, dave, erin, record } from '../test/support/domain-fixtures';
import { approvalsRequired, thresholdMet } from './approval';

describe('thresholds', () => {
  const users = (...ids: string[]) => ids.map((id) => ({ kind: 'user' as const, id }));

  it('any-of: one approval', () => {
    expect(thresholdMet(approval(), 0, [])).toBe(false);
    expect(thresholdMet(approval(), 0, [record(alice)])).toBe(true);
  });

  it('N of M: two of three, distinct people', () => {
    const spec = approval({
      tiers: [{ approvers: users('alice', 'carol', 'dave'), threshold: { kind: 'atLeast', count: 2 } }],
    });
    expect(approvalsRequired(spec, 0)).toBe(2);
    expect(thresholdMet(spec, 0, [record(alice, spec)])).toBe(false);
    expect(thresholdMet(spec, 0, [record(alice, spec), record(alice, spec)])).toBe(false);
    expect(thresholdMet(spec, 0, [record(alice, spec), record(carol, spec)])).toBe(true);
  });

  it('all-of: one approval per listed principal, and one person cannot stand for two groups', () => {
    const spec = approval({
      tiers: [
        {
          approvers: [
            { kind: 'group', id: 'security' },
            { kind: 'group', id: 'sec-leads' },
          ],
          threshold: { kind: 'all' },
        },
      ],
    });
    expect(approvalsRequired(spec, 0)).toBe(2);
    // dave is in both groups: alone he covers only one of them.
    expect(thresholdMet(spec, 0, [record(dave, spec)])).toBe(false);
    // dave then erin: erin covers sec-leads, so dave is matched to security.
    expect(thresholdMet(spec, 0, [record(dave, spec), record(erin, spec)])).toBe(true);
    expect(thresholdMet(spec, 0, [record(alice, spec), record(carol, spec)])).toBe(false);
  });

  it('an escalated tier can decide the request on its own', () => {
    expect(thresholdMet(approval(), 0, [record(erin)])).toBe(false);
    expect(thresholdMet(approval(), 1, [record(erin)])).toBe(true);
  });

  it('automatic flows need nothing', () => {
    expect(approvalsRequired(approval({ automatic: true, tiers: [] }), 0)).toBe(0);
    expect(thresholdMet(approval({ automatic: true, tiers: [] }), 0, [])).toBe(true);
  });
});
