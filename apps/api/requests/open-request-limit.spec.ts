import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FlowSnapshot } from '../../../contracts/snapshot';
import type { Caller } from '../identity/caller';
import { OpenRequestLimit, openRequestsQuery, RECOUNT_AFTER_MS, requireVerifiedRecipient } from './open-request-limit';

const scope = { workflowType: 'accessRequestWorkflow', taskQueue: 'latchkey' };
const alice: Caller = {
  identity: { id: 'alice', email: 'alice@example.com', groups: ['engineering'] },
  roles: [],
  emailVerified: true,
};

/** A client whose visibility count answers `open.count` (changeable), recording each query. */
function fakeClient(count: number, existing: string[] = []) {
  const counted: string[] = [];
  const open = { count };
  const client = {
    workflow: {
      count: (query: string) => {
        counted.push(query);
        return Promise.resolve({ count: open.count, groups: [] });
      },
      getHandle: (workflowId: string) => ({
        describe: () =>
          existing.includes(workflowId)
            ? Promise.resolve({})
            : Promise.reject(new WorkflowNotFoundError('not found', workflowId, undefined)),
      }),
    },
  } as unknown as Client;
  return { client, counted, open };
}

describe(OpenRequestLimit.name, () => {
  it('counts the requester’s own running requests in an open state', () => {
    expect(openRequestsQuery(scope, alice)).toBe(
      "WorkflowType = 'accessRequestWorkflow' AND TaskQueue = 'latchkey' AND (LatchkeyRequester = 'alice' OR " +
        "LatchkeyPendingApprovers IN ('user:alice', 'group:engineering') OR LatchkeyDeciders = 'user:alice') AND " +
        "LatchkeyRequester = 'alice' AND " +
        "ExecutionStatus = 'Running' AND LatchkeyStatus IN ('PENDING_APPROVAL', 'APPROVED', 'ACTIVE', 'ENDING')",
    );
  });

  it('lets a requester below the limit through', async () => {
    const { client, counted } = fakeClient(2);
    await expect(new OpenRequestLimit(client, scope, 3).check(alice)).resolves.toBeUndefined();
    expect(counted).toHaveLength(1);
  });

  it('refuses one more request at the limit with 429 open-request-limit', async () => {
    const sut = new OpenRequestLimit(fakeClient(3).client, scope, 3);
    await expect(sut.check(alice)).rejects.toMatchObject({ status: 429, code: 'open-request-limit' });
  });

  it('lets an idempotent retry of a request that exists through, but not a new one', async () => {
    const sut = new OpenRequestLimit(fakeClient(3, ['AccessRequest:req_1']).client, scope, 3);
    await expect(sut.check(alice, 'AccessRequest:req_1')).resolves.toBeUndefined();
    await expect(sut.check(alice, 'AccessRequest:req_2')).rejects.toMatchObject({ status: 429 });
  });
});

describe(`${OpenRequestLimit.name}, for a requester far below the limit`, () => {
  const bob: Caller = { identity: { id: 'bob', email: 'bob@example.com', groups: [] }, roles: [] };
  afterEach(() => jest.useRealTimers());

  it('counts once, then adds its own starts until half the limit, and counts again from there', async () => {
    const { client, counted, open } = fakeClient(1);
    const sut = new OpenRequestLimit(client, scope, 6);
    await sut.check(alice); // counted: 1 open, this one makes 2
    await sut.check(alice); // 3: half the limit
    expect(counted).toHaveLength(1);
    open.count = 5; // requests made through another instance
    await sut.check(alice);
    expect(counted).toHaveLength(2);
    open.count = 6;
    await expect(sut.check(alice)).rejects.toMatchObject({ status: 429, code: 'open-request-limit' });
  });

  it('keeps a count per requester, and for a limited time only', async () => {
    const { client, counted, open } = fakeClient(0);
    const sut = new OpenRequestLimit(client, scope, 20);
    await sut.check(alice);
    await sut.check(bob);
    await sut.check(alice);
    expect(counted).toHaveLength(2);
    jest.useFakeTimers({
      now: Date.now() + RECOUNT_AFTER_MS,
      doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'],
    });
    open.count = 20;
    await expect(sut.check(alice)).rejects.toMatchObject({ status: 429 });
    expect(counted).toHaveLength(3);
  });

  it('never lets a flood through on a kept count: at a limit of 1 every create is counted', async () => {
    const { client, counted } = fakeClient(0);
    const sut = new OpenRequestLimit(client, scope, 1);
    await sut.check(alice);
    await expect(sut.check(alice)).resolves.toBeUndefined();
    expect(counted).toHaveLength(2);
  });
});

describe(requireVerifiedRecipient.name, () => {
  const shareLink = { grant: { mode: 'share-link' } } as FlowSnapshot;
  const vaultGroup = { grant: { mode: 'vault-group' } } as FlowSnapshot;
  const unverified: Caller = { identity: alice.identity, roles: [] };

  it('sends a link only to an address the token vouches for', () => {
    expect(() => requireVerifiedRecipient(alice, shareLink)).not.toThrow();
    let refusal: unknown;
    try {
      requireVerifiedRecipient(unverified, shareLink);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toMatchObject({ status: 403, code: 'email-not-verified' });
  });

  it('does not ask for a verified address where no link is sent (vault-group)', () => {
    expect(() => requireVerifiedRecipient(unverified, vaultGroup)).not.toThrow();
  });
});
