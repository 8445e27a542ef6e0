import type { Caller } from '../identity/caller';
import { mayRead, mayReadGrant, type RequestParties } from './access-rules';

const parties: RequestParties = {
  requesterId: 'alice',
  resourceId: 'prod-db',
  approvers: [
    { kind: 'group', id: 'security' },
    { kind: 'user', id: 'dave' },
  ],
};
const caller = (id: string, groups: string[] = [], roles: Caller['roles'] = []): Caller => ({
  identity: { id, email: `${id}@example.com`, groups },
  roles,
});

describe('request access rules', () => {
  it.each([
    ['the requester', caller('alice', ['engineering']), true],
    ['a member of an approver group', caller('bob', ['security']), true],
    ['a named approver', caller('dave'), true],
    ['an auditor', caller('audrey', [], ['auditor']), true],
    ['an admin', caller('root', [], ['admin']), true],
    ['another requester of the same group', caller('frank', ['engineering']), false],
    ['someone outside the flow', caller('erin', ['payments']), false],
  ])('lets %s read the request: %s', (_who, who, expected) => {
    expect(mayRead(who, parties)).toBe(expected);
  });

  it('gives the grant to the requester alone', () => {
    expect(mayReadGrant(caller('alice'), parties)).toBe(true);
    for (const other of [
      caller('bob', ['security']),
      caller('audrey', [], ['auditor']),
      caller('root', [], ['admin']),
    ]) {
      expect(mayReadGrant(other, parties)).toBe(false);
    }
  });
});
