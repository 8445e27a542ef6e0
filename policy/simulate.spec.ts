import type { Identity } from '../contracts/identity';
import { CATALOG, edit, VALID_POLICY } from '../test/support/policy-fixtures';
import { evaluateRequest } from './evaluate';
import { parsePolicy } from './load';
import { type RecordedRequest, simulateRequest } from './simulate';

const FILE = '/etc/latchkey/policy.yaml';
const POLICY = parsePolicy(VALID_POLICY, FILE);
const ALICE: Identity = { id: 'alice', email: 'alice@example.com', groups: ['engineering'] };

/** A request as the current policy made it. */
function recorded(resourceId: string, duration = 'PT2H'): RecordedRequest {
  const draft = { resourceId, duration, justification: 'INC-42: restore the orders table', ticket: 'INC-42' };
  const evaluation = evaluateRequest(POLICY, CATALOG, ALICE, draft);
  if (!evaluation.ok) throw new Error(JSON.stringify(evaluation.refusal));
  return {
    requestId: 'req_1',
    requester: ALICE,
    justification: draft.justification,
    ticket: draft.ticket,
    snapshot: evaluation.snapshot,
  };
}

describe(simulateRequest.name, () => {
  it('finds nothing to say under the same policy', () => {
    expect(simulateRequest(POLICY, CATALOG, recorded('prod-db'))).toEqual({ outcome: 'unchanged' });
  });

  it('names the rule that would refuse the request', () => {
    const shorter = parsePolicy(
      edit(
        edit(VALID_POLICY, 'max: PT8H, default: PT1H', 'max: PT1H, default: PT1H'),
        'maxCount: 2, maxDuration: PT2H',
        'maxCount: 2, maxDuration: PT1H',
      ),
      FILE,
    );
    expect(simulateRequest(shorter, CATALOG, recorded('prod-db'))).toMatchObject({
      outcome: 'refused',
      refusal: { code: 'duration-too-long', rule: 'flows.prod-access.duration.max' },
    });
  });

  it('says which approvers, flow or maximum would differ', () => {
    const otherApprovers = parsePolicy(
      edit(VALID_POLICY, '        - approvers: [resource-owner]', '        - approvers: [{ group: dba-leads }]'),
      FILE,
    );
    expect(simulateRequest(otherApprovers, CATALOG, recorded('prod-db'))).toEqual({
      outcome: 'changed',
      changes: [
        'approval any of group:dba; then at least 2 of group:security-leads → any of group:dba-leads; then at least 2 of group:security-leads',
      ],
    });
    const longer = parsePolicy(edit(VALID_POLICY, 'max: PT8H, default: PT1H', 'max: PT12H, default: PT1H'), FILE);
    expect(simulateRequest(longer, CATALOG, recorded('prod-db'))).toEqual({
      outcome: 'changed',
      changes: ['maximum PT8H → PT12H'],
    });
  });
});
