import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { encodeUnifiedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { SA_STATUS } from '../contracts/search-attributes';
import { generateKeyPairSync } from 'node:crypto';
import { CommandSigner } from '../trust/command-signer';
import { buildAuditTimeline, type HistoryEvent } from './timeline';

const SHARE_URL = 'https://share.example.invalid/s/secret#key';
const at = (second: number) => ({ seconds: 1_800_000_000 + second, nanos: 0 });
const payloads = (...values: unknown[]): { payloads: Payload[] } => ({
  payloads: values.map((value) => defaultPayloadConverter.toPayload(value)),
});
const decode = (list: Payload[] | null | undefined): Promise<unknown[]> =>
  Promise.resolve((list ?? []).map((payload) => defaultPayloadConverter.fromPayload(payload)));

const history: HistoryEvent[] = [
  {
    eventId: 1,
    eventTime: at(0),
    workflowExecutionStartedEventAttributes: {
      input: payloads({
        requestId: 'req_0123456789',
        requester: { id: 'alice', email: 'alice@example.com', groups: ['engineering'] },
        justification: 'INC-4211',
        requestedAt: '2027-01-15T08:00:00Z',
        snapshot: {
          policyVersion: 'sha256:abc',
          flowName: 'prod-access',
          integration: { name: 'demo', kind: 'local' },
          resource: { id: 'prod-db', name: 'Production database', type: 'item', vaultId: 'v' },
          durationMs: 7_200_000,
          approval: {
            automatic: false,
            allowSelfApproval: false,
            tiers: [{ approvers: [{ kind: 'group', id: 'security' }], threshold: { kind: 'any' } }],
          },
        },
      }),
    },
  },
  {
    eventId: 5,
    eventTime: at(10),
    workflowExecutionUpdateAcceptedEventAttributes: {
      acceptedRequest: {
        meta: { updateId: 'u1' },
        input: {
          name: 'approve',
          args: payloads({ actor: { id: 'bob', groups: ['security'], roles: [] }, comment: 'OK' }),
        },
      },
    },
  },
  {
    eventId: 6,
    eventTime: at(11),
    activityTaskScheduledEventAttributes: { activityType: { name: 'createShareLink' } },
  },
  {
    eventId: 7,
    eventTime: at(12),
    activityTaskCompletedEventAttributes: { scheduledEventId: 6, result: payloads({ url: SHARE_URL }) },
  },
  {
    eventId: 8,
    eventTime: at(12),
    upsertWorkflowSearchAttributesEventAttributes: {
      // Encoded as the SDK encodes a workflow's typed upsert.
      searchAttributes: {
        indexedFields: encodeUnifiedSearchAttributes(undefined, [{ key: SA_STATUS, value: 'ACTIVE' }]),
      },
    },
  },
  {
    eventId: 9,
    eventTime: at(13),
    workflowExecutionUpdateCompletedEventAttributes: {
      meta: { updateId: 'u1' },
      outcome: { success: payloads({ status: 'ACTIVE', grant: { shareUrl: SHARE_URL } }) },
    },
  },
  {
    eventId: 12,
    eventTime: at(20),
    workflowExecutionCompletedEventAttributes: { result: payloads({ status: 'REVOKED', grant: { endsAt: 'x' } }) },
  },
] as unknown as HistoryEvent[];

describe(buildAuditTimeline.name, () => {
  it('tells who did what, when and why', async () => {
    const sut = await buildAuditTimeline(history, decode);
    expect(sut.map(({ kind, actor, summary }) => ({ kind, actor, summary }))).toEqual([
      { kind: 'requested', actor: 'alice', summary: 'alice asked for prod-db' },
      { kind: 'approve', actor: 'bob', summary: 'bob approved: OK' },
      { kind: 'step-started', actor: undefined, summary: 'latchkey started createShareLink' },
      { kind: 'step-completed', actor: undefined, summary: 'createShareLink succeeded' },
      { kind: 'status', actor: undefined, summary: 'status is now ACTIVE' },
      { kind: 'approve-completed', actor: undefined, summary: 'after the approve, the request is ACTIVE' },
      { kind: 'closed', actor: undefined, summary: 'the request ended REVOKED' },
    ]);
    expect(sut[0].at).toBe(new Date(1_800_000_000_000).toISOString());
  });

  it('never carries the share link, an e-mail address, or the approver groups and roles', async () => {
    const text = JSON.stringify(await buildAuditTimeline(history, decode));
    expect(text).not.toContain(SHARE_URL);
    expect(text).not.toContain('alice@example.com');
    expect(text).not.toContain('roles');
  });

  it('names the 1Password group a vault-group grant reaches', async () => {
    const started = history[0].workflowExecutionStartedEventAttributes!;
    const [input] = (await decode(started.input!.payloads)) as [Record<string, { grant?: unknown }>];
    input.snapshot.grant = {
      mode: 'vault-group',
      vaultId: 'vlt_oncall',
      groupId: 'grp_engineering',
      groupTitle: 'Engineering',
      groupType: 'userDefined',
      permissions: ['read_items'],
    };
    const vaultHistory = [{ ...history[0], workflowExecutionStartedEventAttributes: { input: payloads(input) } }];
    const [requested] = await buildAuditTimeline(vaultHistory, decode);
    expect(requested.details).toMatchObject({
      reaches: { onePasswordGroupId: 'grp_engineering', title: 'Engineering', type: 'userDefined' },
    });
  });

  it('marks a break-glass request, and reads its approve as the ratification it is', async () => {
    const started = history[0].workflowExecutionStartedEventAttributes!;
    const [input] = (await decode(started.input!.payloads)) as [Record<string, { breakGlass?: unknown }>];
    input.snapshot.breakGlass = {
      ratifyWithinMs: 1_800_000,
      ratifiers: [{ kind: 'group', id: 'security' }],
      onNotRatified: 'end-and-rotate',
    };
    const breakGlassHistory = [
      { ...history[0], workflowExecutionStartedEventAttributes: { input: payloads(input) } },
      ...history.slice(1),
    ];
    const timeline = await buildAuditTimeline(breakGlassHistory, decode);
    expect(timeline[0]).toMatchObject({
      summary: 'alice asked for prod-db, breaking the glass',
      details: { breakGlass: { ratifyWithinMs: 1_800_000, onNotRatified: 'end-and-rotate' } },
    });
    expect(timeline.find((entry) => entry.kind === 'approve')?.summary).toBe('bob ratified the break-glass access: OK');
  });

  it('says when a scheduled request was to start', async () => {
    const started = history[0].workflowExecutionStartedEventAttributes!;
    const [input] = (await decode(started.input!.payloads)) as [Record<string, unknown>];
    const scheduled = [
      {
        ...history[0],
        workflowExecutionStartedEventAttributes: { input: payloads({ ...input, startAt: '2027-01-16T22:00:00.000Z' }) },
      },
    ];
    const [requested] = await buildAuditTimeline(scheduled, decode);
    expect(requested.summary).toBe('alice asked for prod-db, from 2027-01-16T22:00:00.000Z');
    expect(requested.details).toMatchObject({ startAt: '2027-01-16T22:00:00.000Z' });
  });

  it('never decodes activity results', async () => {
    const decoded: unknown[] = [];
    await buildAuditTimeline(history, async (list) => {
      const values = await decode(list);
      decoded.push(...values);
      return values;
    });
    expect(decoded).not.toContainEqual({ url: SHARE_URL });
  });

  it('reads signed commands: the actor and words from their claims, the command kept as history holds it', async () => {
    const signer = new CommandSigner({ id: 'api-1', privateKey: generateKeyPairSync('ed25519').privateKey });
    const bob = { id: 'bob', groups: ['security'], roles: [] };
    const alice = { id: 'alice', groups: ['engineering'], roles: [] };
    const approveCommand = signer.sign('approve', 'AccessRequest:req_0123456789', bob, { comment: 'signed OK' });
    const started = history[0].workflowExecutionStartedEventAttributes!;
    const [input] = (await decode(started.input!.payloads)) as [object];
    const signedInput = signer.signStart('AccessRequest:req_0123456789', alice, input);
    const signedHistory = [
      { ...history[0], workflowExecutionStartedEventAttributes: { input: payloads(signedInput) } },
      {
        ...history[1],
        workflowExecutionUpdateAcceptedEventAttributes: {
          acceptedRequest: { meta: { updateId: 'u1' }, input: { name: 'approve', args: payloads(approveCommand) } },
        },
      },
    ] as unknown as HistoryEvent[];
    const [requested, approved] = await buildAuditTimeline(signedHistory, decode);
    expect(requested.details?.command).toEqual(signedInput.command);
    expect(approved).toMatchObject({
      kind: 'approve',
      actor: 'bob',
      summary: 'bob approved: signed OK',
      details: { update: 'approve', comment: 'signed OK', command: approveCommand },
    });
  });

  it('leaves the command out of decisions recorded before signed commands', async () => {
    const [requested, approved] = await buildAuditTimeline(history, decode);
    expect(requested.details).not.toHaveProperty('command');
    expect(approved.details).toEqual({ update: 'approve', comment: 'OK' });
  });
});
