import { ApplicationFailure } from '@temporalio/workflow';
import type { CommandKind, SignedCommand } from '../../contracts/command';
import type { Actor } from '../../contracts/identity';
import { REFUSAL } from '../../contracts/messages';
import { verifyCommand } from '../../trust/command';
import { sharedKeyEd25519 } from '../../trust/ed25519';
import { trustedCommandKeys } from '../worker-trust';
import type { AccessRequestRun } from './run';

export interface Command<Args> {
  actor: Actor;
  args: Args;
  /** Absent in Updates recorded before signed commands. */
  nonce?: string;
}

/**
 * An Update's command, checked where the decision is taken (the validator): signed by a trusted key, for this
 * kind and this request, within its lifetime, and not used before. A refusal writes nothing to history.
 */
export function verifiedCommand<Args>(run: AccessRequestRun, kind: CommandKind, raw: unknown): Command<Args> {
  const verdict = verifyCommand<Args>(
    raw,
    trustedCommandKeys(),
    {
      kind,
      workflowId: run.workflowId,
      nowMs: Date.now(),
    },
    sharedKeyEd25519,
  );
  if (!verdict.ok) throw unverified(verdict.reason);
  if (run.commandNonces.has(verdict.claims.nonce)) throw unverified('the command was already used');
  return { actor: verdict.claims.actor, args: verdict.claims.args, nonce: verdict.claims.nonce };
}

/**
 * An Update's command as history recorded it: the handler reads it without checking the signature again, since
 * only a command its validator accepted reaches it (replay runs no validator, and must not depend on today's
 * keys). Histories recorded before signed commands hold the arguments with the actor beside them.
 */
export function recordedCommand<Args>(raw: unknown): Command<Args> {
  const signed = raw as Partial<SignedCommand> | null;
  if (signed && typeof signed.claims === 'string') {
    const claims = JSON.parse(signed.claims) as { actor: Actor; args: Args; nonce: string };
    return { actor: claims.actor, args: claims.args, nonce: claims.nonce };
  }
  const { actor, ...args } = (raw ?? {}) as { actor: Actor };
  return { actor, args: args as Args };
}

function unverified(reason: string): ApplicationFailure {
  return ApplicationFailure.create({ type: REFUSAL.unverified, message: reason, nonRetryable: true });
}
