import { toSign } from '../test/support/commands';
import { Client } from '@temporalio/client';
import { approveUpdate } from '../contracts/messages';
import { leaseResultSignal } from '../contracts/vault-lease';
import { approve, stateOf, useTimeSkippingWorld } from '../test/support/time-skipping';
import { people, shareLinkGrant } from '../test/support/snapshots';
import type { accessRequestWorkflow } from '../workflows/access-request/workflow';

/**
 * Someone who can reach Temporal but has no payload key sends plaintext. The worker's codec turns each such
 * payload into a refusal marker instead of throwing, which would fail the workflow task on every retry and
 * freeze the request: the plaintext is refused, and the request goes on as if nothing had been sent.
 */
const suite = useTimeSkippingWorld();

describe('the worker refusing plaintext payloads (time-skipping server)', () => {
  it('refuses a plaintext approve and ignores a plaintext signal, and the request still moves on', async () => {
    const sut = await suite.started({ grant: shareLinkGrant() });
    const plaintextClient = new Client({ connection: suite.env.connection, namespace: suite.env.namespace });
    const forged = plaintextClient.workflow.getHandle<typeof accessRequestWorkflow>(sut.workflowId);

    // Refused by the validator (the refusal comes back encrypted, which this client cannot read).
    await expect(forged.executeUpdate(approveUpdate, { args: [toSign({ actor: people.alice })] })).rejects.toThrow();
    await forged.signal(leaseResultSignal, { op: 'grant:1', ok: true } as never);
    expect((await stateOf(sut)).status).toBe('PENDING_APPROVAL');

    // Not frozen: the real approver's approve, encrypted, is taken as ever.
    expect((await approve(sut, people.alice)).status).toBe('ACTIVE');
    const events = (await sut.fetchHistory()).events ?? [];
    expect(events.filter((event) => event.workflowTaskFailedEventAttributes)).toEqual([]);
    expect(events.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(1);
  });
});
