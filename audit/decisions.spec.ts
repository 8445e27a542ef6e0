import { generateKeyPairSync } from 'node:crypto';
import { CommandSigner } from '../trust/command-signer';
import { checkDecisions, type DecisionTally } from './decisions';
import type { AuditEntry } from './timeline';

const WORKFLOW_ID = 'AccessRequest:req_0123456789';
const signerOf = (id: string) => new CommandSigner({ id, privateKey: generateKeyPairSync('ed25519').privateKey });
const api = signerOf('api-1');
const keys = { 'api-1': api.publicKeyHex() };
const bob = { id: 'bob', groups: ['security'], roles: [] };
const alice = { id: 'alice', groups: ['engineering'], roles: [] };

function timelineOf(entries: Array<Omit<AuditEntry, 'at'>>) {
  return { requestId: 'req_0123456789', workflowId: WORKFLOW_ID, entries: entries.map((e) => ({ ...e, at: 'x' })) };
}

function signedTimeline(signer = api, workflowId = WORKFLOW_ID) {
  const start = signer.signStart(workflowId, alice, { requestId: 'req_0123456789' }).command;
  const approve = signer.sign('approve', workflowId, bob, { comment: 'OK' });
  return timelineOf([
    { eventId: 1, kind: 'requested', actor: 'alice', summary: '', details: { command: start } },
    {
      eventId: 5,
      kind: 'approve',
      actor: 'bob',
      summary: '',
      details: { update: 'approve', comment: 'OK', command: approve },
    },
    { eventId: 6, kind: 'step-started', summary: '' },
  ]);
}

describe(checkDecisions.name, () => {
  let tally: DecisionTally;
  beforeEach(() => (tally = { signed: 0, unsigned: 0 }));

  it('proves every signed decision against the trusted command keys', () => {
    expect(checkDecisions(signedTimeline(), keys, tally)).toBeUndefined();
    expect(tally).toEqual({ signed: 2, unsigned: 0 });
  });

  it('counts decisions recorded before signed commands as unsigned, without failing', () => {
    const legacy = timelineOf([
      { eventId: 1, kind: 'requested', actor: 'alice', summary: '' },
      { eventId: 5, kind: 'reject', actor: 'bob', summary: '', details: { update: 'reject', comment: 'no' } },
    ]);
    expect(checkDecisions(legacy, keys, tally)).toBeUndefined();
    expect(tally).toEqual({ signed: 0, unsigned: 2 });
  });

  it('refuses a command signed by a key the auditor does not trust', () => {
    expect(checkDecisions(signedTimeline(signerOf('api-1')), keys, tally)).toBe(
      'request req_0123456789, event 1 (requested): the command’s signature does not verify',
    );
  });

  it('refuses a command signed for another request', () => {
    expect(checkDecisions(signedTimeline(api, 'AccessRequest:req_other00000'), keys, tally)).toMatch(
      /event 1 \(requested\): the command was signed for another request/,
    );
  });

  it('refuses a timeline whose actor or words differ from what was signed', () => {
    const otherActor = signedTimeline();
    otherActor.entries[1].actor = 'mallory';
    expect(checkDecisions(otherActor, keys, tally)).toBe(
      'request req_0123456789, event 5 (approve): the command is signed for "bob", the timeline says "mallory"',
    );
    const otherWords = signedTimeline();
    otherWords.entries[1].details!.comment = 'fine by me';
    expect(checkDecisions(otherWords, keys, { signed: 0, unsigned: 0 })).toMatch(/comment is not the one signed/);
  });

  it('reads a signed null as an absent word, as the timeline does', () => {
    const nullComment = api.sign('reject', WORKFLOW_ID, bob, { comment: null });
    const timeline = timelineOf([
      { eventId: 5, kind: 'reject', actor: 'bob', summary: '', details: { update: 'reject', command: nullComment } },
    ]);
    expect(checkDecisions(timeline, keys, tally)).toBeUndefined();
  });

  it('refuses a command of another kind than the entry it sits in', () => {
    const swapped = signedTimeline();
    swapped.entries[1].kind = 'revoke';
    expect(checkDecisions(swapped, keys, tally)).toMatch(
      /event 5 \(revoke\): the command is a signed approve, not revoke/,
    );
  });
});
