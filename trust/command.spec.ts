import { generateKeyPairSync } from 'node:crypto';
import type { Actor } from '../contracts/identity';
import type { TrustedKeys } from '../contracts/command';
import { COMMAND_LIFETIME_MS, inputDigest, verifyCommand } from './command';
import { CommandSigner } from './command-signer';

const alice: Actor = { id: 'u-alice', groups: ['security'], roles: [] };
const NOW = Date.parse('2026-11-30T10:00:00Z');
const WORKFLOW = 'AccessRequest:req_1';

describe(verifyCommand.name, () => {
  const signer = new CommandSigner({ id: 'api-1', privateKey: generateKeyPairSync('ed25519').privateKey });
  const keys: TrustedKeys = { 'api-1': signer.publicKeyHex() };
  const expect_ = { kind: 'approve' as const, workflowId: WORKFLOW, nowMs: NOW };

  it('accepts a command signed by a trusted key, for this request, within its lifetime, with its claims', () => {
    const sut = verifyCommand(signer.sign('approve', WORKFLOW, alice, { comment: 'ok' }, NOW), keys, expect_);
    expect(sut).toMatchObject({ ok: true, keyId: 'api-1', claims: { actor: alice, args: { comment: 'ok' } } });
  });

  it.each([
    ['is not a signed command', () => ({ actor: alice }), /not signed/],
    [
      'names a key nobody trusts',
      () => ({ ...signer.sign('approve', WORKFLOW, alice, {}, NOW), keyId: 'x' }),
      /not trusted/,
    ],
    [
      'was signed by another key under a trusted id',
      () =>
        new CommandSigner({ id: 'api-1', privateKey: generateKeyPairSync('ed25519').privateKey }).sign(
          'approve',
          WORKFLOW,
          alice,
          {},
          NOW,
        ),
      /does not verify/,
    ],
    [
      'had its claims edited',
      () => {
        const command = signer.sign('approve', WORKFLOW, alice, {}, NOW);
        return { ...command, claims: command.claims.replace('u-alice', 'u-mallory') };
      },
      /does not verify/,
    ],
    ['is of another kind', () => signer.sign('reject', WORKFLOW, alice, {}, NOW), /signed reject, not approve/],
    [
      'was made for another request',
      () => signer.sign('approve', 'AccessRequest:req_2', alice, {}, NOW),
      /another request/,
    ],
    ['has expired', () => signer.sign('approve', WORKFLOW, alice, {}, NOW - COMMAND_LIFETIME_MS - 1), /expired/],
    ['is issued in the future', () => signer.sign('approve', WORKFLOW, alice, {}, NOW + 2 * 60_000), /future/],
  ])('refuses a command that %s', (_what, command, reason) => {
    const sut = verifyCommand(command(), keys, expect_);
    expect(sut.ok).toBe(false);
    expect(!sut.ok && sut.reason).toMatch(reason);
  });

  it('checks signature and binding alone offline, whenever the command was made', () => {
    const old = signer.sign('approve', WORKFLOW, alice, {}, NOW - 365 * 86_400_000);
    expect(verifyCommand(old, keys, { kind: 'approve', workflowId: WORKFLOW }).ok).toBe(true);
  });

  it('binds a start to its input: any change to the input changes the digest', () => {
    const input = { requestId: 'req_1', justification: 'on call', requester: { id: 'u-bob' } };
    const signed = signer.signStart(WORKFLOW, alice, input, NOW);
    const sut = verifyCommand<{ inputDigest: string }>(signed.command, keys, { ...expect_, kind: 'start' });
    expect(sut.ok && sut.claims.args.inputDigest).toBe(inputDigest(signed));
    expect(inputDigest({ ...signed, justification: 'changed' })).not.toBe(inputDigest(signed));
  });
});
