import { generateKeyPairSync } from 'node:crypto';
import { Client } from '@temporalio/client';
import { createDataConverter } from '../codec';
import type { SignedCommand } from '../contracts/command';
import { approveUpdate, REFUSAL } from '../contracts/messages';
import type { AccessRequestState } from '../contracts/request';
import type { VaultGroupGrantSpec } from '../contracts/snapshot';
import { type LeaseRequest, leaseRequestSignal, type VaultLeaseState } from '../contracts/vault-lease';
import { requestWorkflowId, vaultLeaseWorkflowId } from '../domain/ids';
import { TEST_ONLY_CODEC_KEY } from '../test/support/codec-test-key';
import { TEST_ONLY_COMMAND_KEY, TEST_WORKER_TRUST, toSign } from '../test/support/commands';
import { recordHistory } from '../test/support/histories';
import { HOUR, people, requestInput, shareLinkGrant, vaultGroupGrant } from '../test/support/snapshots';
import { approve, eventually, refusalOf, revoke, stateOf, useTimeSkippingWorld } from '../test/support/time-skipping';
import { WorkflowTestWorld } from '../test/support/workflow-world';
import { CommandSigner } from '../trust/command-signer';
import type { accessRequestWorkflow } from './access-request/workflow';

/**
 * Temporal is not the authority on who decided. Someone who reaches Temporal with the payload key (an insider,
 * a leaked UI session) but not the API's signing key sends commands straight to the workflows: every one is
 * refused where the decision is taken, and leaves no trace.
 */
const suite = useTimeSkippingWorld();

/** A client as an insider has it: the payload key, no signing interceptor. */
const rawClient = () =>
  new Client({
    connection: suite.env.connection,
    namespace: suite.env.namespace,
    dataConverter: createDataConverter(TEST_ONLY_CODEC_KEY),
  });

const apiSigner = () => new CommandSigner(TEST_ONLY_COMMAND_KEY);
const attackerKey = () => generateKeyPairSync('ed25519').privateKey;
const now = () => suite.env.currentTimeMs();

function acceptedUpdates(events: Array<{ workflowExecutionUpdateAcceptedEventAttributes?: unknown }>): number {
  return events.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes).length;
}

describe('signed commands (time-skipping server, a raw Temporal client)', () => {
  it('refuses an approve by a real approver that is unsigned, mis-signed, replayed, expired or plaintext', async () => {
    const sut = await suite.started({ grant: shareLinkGrant() });
    const other = await suite.started({ grant: shareLinkGrant() });
    const forged = rawClient().workflow.getHandle<typeof accessRequestWorkflow>(sut.workflowId);
    const send = (command: SignedCommand) => refusalOf(forged.executeUpdate(approveUpdate, { args: [command] }));
    const alice = people.alice;

    expect(await send(toSign({ actor: alice }))).toBe(REFUSAL.unverified);
    const stranger = new CommandSigner({ id: 'attacker-1', privateKey: attackerKey() });
    expect(await send(stranger.sign('approve', sut.workflowId, alice, {}, await now()))).toBe(REFUSAL.unverified);
    const impostor = new CommandSigner({ id: TEST_ONLY_COMMAND_KEY.id, privateKey: attackerKey() });
    expect(await send(impostor.sign('approve', sut.workflowId, alice, {}, await now()))).toBe(REFUSAL.unverified);
    const forOther = apiSigner().sign('approve', other.workflowId, alice, {}, await now());
    expect(await send(forOther)).toBe(REFUSAL.unverified);
    const expired = apiSigner().sign('approve', sut.workflowId, alice, {}, (await now()) - 10 * 60_000);
    expect(await send(expired)).toBe(REFUSAL.unverified);
    const aReject = apiSigner().sign('reject', sut.workflowId, alice, {}, await now());
    expect(await send(aReject)).toBe(REFUSAL.unverified);
    const genuine = apiSigner().sign('approve', sut.workflowId, alice, { comment: 'ok' }, await now());
    expect(await send({ ...genuine, claims: genuine.claims.replace('"ok"', '"ok, and more"') })).toBe(
      REFUSAL.unverified,
    );
    // A genuine command sent without the payload codec: the worker refuses the plaintext before any check.
    const plaintext = new Client({ connection: suite.env.connection, namespace: suite.env.namespace });
    await expect(
      plaintext.workflow.getHandle(sut.workflowId).executeUpdate(approveUpdate, { args: [genuine] }),
    ).rejects.toThrow();

    expect((await stateOf(sut)).status).toBe('PENDING_APPROVAL');
    expect(acceptedUpdates((await sut.fetchHistory()).events ?? [])).toBe(0);

    // The command made for the other request is accepted there, once.
    const approved = await rawClient()
      .workflow.getHandle(other.workflowId)
      .executeUpdate(approveUpdate, { args: [forOther] });
    expect(approved.status).toBe('ACTIVE');
    expect(
      await refusalOf(
        rawClient()
          .workflow.getHandle(other.workflowId)
          .executeUpdate(approveUpdate, { args: [forOther] }),
      ),
    ).toBe(REFUSAL.unverified);

    // And the genuine one, untouched, is accepted by the request it was made for.
    const active = await forged.executeUpdate(approveUpdate, { args: [genuine] });
    expect(active.status).toBe('ACTIVE');
    expect(active.approvals).toMatchObject([{ approverId: alice.id, comment: 'ok' }]);
    await suite.world.advance(8 * HOUR + 60_000);
    await eventually(async () => expect((await stateOf(sut)).status).toBe('EXPIRED'));
    await recordHistory(sut, 'signed-approve-then-expired');
  });

  it('ends a start the API did not sign FAILED, before anything is granted', async () => {
    const automatic = { approval: { automatic: true, tiers: [], allowSelfApproval: false }, grant: shareLinkGrant() };
    const unsigned = requestInput(suite.flow(automatic));
    const tampered = apiSigner().signStart(requestWorkflowId('req_tampered'), people.bob, {
      ...requestInput(suite.flow(automatic)),
      requestId: 'req_tampered',
    });
    const raw = rawClient();
    for (const input of [unsigned, { ...tampered, justification: 'changed after signing' }]) {
      const handle = await raw.workflow.start('accessRequestWorkflow', {
        workflowId: requestWorkflowId(input.requestId),
        taskQueue: suite.world.taskQueue,
        args: [input],
      });
      const state = (await handle.result()) as AccessRequestState;
      expect(state).toMatchObject({ status: 'FAILED', failure: { code: 'unverified-command' } });
      expect(state.grant).toBeUndefined();
    }
    expect(suite.world.port.calls).toEqual([]);
  });

  it('grants nothing for a forged vault-lease message, nor for a lease started with holders in its input', async () => {
    const grant = vaultGroupGrant() as VaultGroupGrantSpec;
    const key = { integration: suite.world.integration, vaultId: grant.vaultId, groupId: grant.groupId };
    const acquire: LeaseRequest = {
      op: 'acquire',
      leaseId: 'AccessRequest:req_forged',
      replyTo: 'AccessRequest:req_forged',
      permissions: ['read_items', 'reveal_item_password'],
      endsAt: new Date((await now()) + 24 * HOUR).toISOString(),
    };
    const planted: VaultLeaseState = {
      ...key,
      holders: { [acquire.leaseId]: { permissions: acquire.permissions, replyTo: acquire.replyTo, since: '' } },
      granted: [],
      queue: [acquire],
      generation: 3,
    };
    const raw = rawClient();
    const lease = await raw.workflow.signalWithStart('vaultLeaseWorkflow', {
      workflowId: vaultLeaseWorkflowId(key.integration, key.vaultId, key.groupId),
      taskQueue: suite.world.taskQueue,
      args: [planted],
      signal: leaseRequestSignal,
      signalArgs: [{ ...acquire, mac: '0'.repeat(64) }],
    });
    // Under another id than its key names, a lease does nothing at all, and holds nothing it was handed.
    const elsewhere = await raw.workflow.start('vaultLeaseWorkflow', {
      workflowId: `${lease.workflowId}-elsewhere`,
      taskQueue: suite.world.taskQueue,
      args: [planted],
    });
    expect(await elsewhere.result()).toMatchObject({ holders: {}, granted: [], queue: [] });

    await eventually(async () => {
      const history = (await lease.fetchHistory()).events ?? [];
      expect(history.filter((event) => event.workflowTaskCompletedEventAttributes).length).toBeGreaterThan(1);
    });
    expect(await suite.groupPermissions(grant.vaultId)).toEqual([]);
    expect(suite.world.port.calls.filter((call) => call.method === 'grantGroupPermissions')).toEqual([]);

    // A real request for the same group and vault is still served by the same lease.
    const real = await suite.started({ grant });
    const active = await approve(real, people.alice);
    expect(active.status).toBe('ACTIVE');
    expect(await suite.groupPermissions(grant.vaultId)).toEqual([
      expect.objectContaining({ groupId: grant.groupId, permissions: grant.permissions }),
    ]);
    expect((await revoke(real, people.admin)).status).toBe('REVOKED');
    expect(await suite.groupPermissions(grant.vaultId)).toEqual([]);
    await recordHistory(real, 'vault-group-lease-authenticated', { keepWorkflowId: true });
    await recordHistory(lease, 'vault-lease-forged-message-dropped', { keepWorkflowId: true });
  });

  it('takes commands signed by a new key once workers trust it, and refuses the old key once retired', async () => {
    const world = await WorkflowTestWorld.create(suite.env); // workers of its own, trusting what the test says
    suite.world = world;
    const newKey = { id: 'commands-2', privateKey: attackerKey() };
    const rotated = new CommandSigner(newKey);
    const both = {
      ...TEST_WORKER_TRUST,
      commandKeys: { ...TEST_WORKER_TRUST.commandKeys, [newKey.id]: rotated.publicKeyHex() },
    };
    // 1. Workers trust both keys; the API still signs with the old one (the test client's interceptor).
    await world.startWorker({ maxCachedWorkflows: 0 }, both);
    const sut = await world.start(requestInput(suite.flow({ grant: shareLinkGrant() })));
    expect((await stateOf(sut)).status).toBe('PENDING_APPROVAL');

    // 2. Workers trust only the new key; the request started under the old one goes on (its start's verdict is
    //    in history), commands signed with the old key are refused, the new key's are taken.
    await world.stopWorkers();
    await world.startWorker(
      { maxCachedWorkflows: 0 },
      { ...TEST_WORKER_TRUST, commandKeys: { [newKey.id]: rotated.publicKeyHex() } },
    );
    const handle = world.client.workflow.getHandle<typeof accessRequestWorkflow>(sut.workflowId);
    const old = apiSigner().sign('approve', sut.workflowId, people.alice, {}, await now());
    expect(await refusalOf(handle.executeUpdate(approveUpdate, { args: [old] }))).toBe(REFUSAL.unverified);
    const fresh = rotated.sign('approve', sut.workflowId, people.alice, {}, await now());
    expect((await handle.executeUpdate(approveUpdate, { args: [fresh] })).status).toBe('ACTIVE');
    await world.advance(8 * HOUR + 60_000);
    await eventually(async () => expect((await stateOf(sut)).status).toBe('EXPIRED'));
  });
});
