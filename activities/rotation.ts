import { randomInt } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { RotatorSpec } from '../contracts/snapshot';
import { TargetError, type RotationCheck } from '../targets/port';
import type { ActivityContext } from './context';
import { alertAdmins, endingAttempt, isGone, reportGone } from './ending';
import { heartbeating } from './heartbeat';
import type {
  PreparedRotation,
  RotateSecretInput,
  RotateSecretResult,
  RotationStepInput,
  StoreItemSecretInput,
  TargetSecretInput,
  VerifyRotationInput,
} from './types';

const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const SECRET_LENGTH = 32;

/** 32 letters and digits (190 bits): accepted by any system a command may rotate, and by PostgreSQL. */
export function newSecret(): string {
  return Array.from({ length: SECRET_LENGTH }, () => SECRET_ALPHABET[randomInt(SECRET_ALPHABET.length)]).join('');
}

/**
 * Rotate-on-revoke. A rotation is four steps, each its own activity keyed `<workflow id>:rotate:<step>`, whose
 * results (the secrets among them) live only in codec-encrypted history: make the new secret; set it in the
 * target; write it to the 1Password item; check that the target takes the item's secret and refuses the old. Every
 * step is idempotent, so a worker killed between or inside steps finishes the same rotation, never a second.
 */
export function rotationActivities(deps: ActivityContext) {
  const target = (spec: Exclude<RotatorSpec, { kind: 'none' }>) => {
    if (!deps.targets) throw new TargetError('invalid-argument', 'this worker was started without targets');
    return deps.targets.rotator(spec.kind === 'postgres' ? spec : { target: spec.target });
  };
  const subject = (input: RotationStepInput) => ({
    step: input.idempotencyKey,
    integration: input.integration,
    resourceId: input.resourceId,
  });

  return {
    /** The new secret, and the item's current one (the target must refuse it afterwards). `gone`: no item any more. */
    async prepareRotation(input: RotationStepInput & { vaultId: string; itemId: string }): Promise<PreparedRotation> {
      const port = deps.onePassword(input.integration);
      const prepared = await endingAttempt(deps, subject(input), async (): Promise<PreparedRotation> => {
        try {
          const previous = await heartbeating(() => port.getItemSecret(input.vaultId, input.itemId));
          return { secret: newSecret(), previous };
        } catch (error) {
          if (!isGone(error)) throw error;
          return { gone: true };
        }
      });
      if (prepared.gone) await reportGone(deps, subject(input));
      return prepared;
    },

    /** The target accepts only the new secret from now on. Setting it again is harmless. */
    async setTargetSecret(input: TargetSecretInput): Promise<void> {
      await endingAttempt(deps, subject(input), () =>
        heartbeating(() => target(input.rotator).setSecret(input.secret, input.idempotencyKey)),
      );
      deps.log('target secret set', { step: input.idempotencyKey, target: input.rotator.target });
    },

    /**
     * The item holds the new secret. Until it does, the target accepts a secret that only latchkey's history
     * knows: admins are told at once (and again at attempts 2, 4, 8, ...), and the attempts never stop.
     */
    async storeItemSecret(input: StoreItemSecretInput): Promise<RotateSecretResult> {
      const port = deps.onePassword(input.integration);
      try {
        const stored = await endingAttempt(deps, subject(input), async (): Promise<RotateSecretResult> => {
          try {
            return await heartbeating(() =>
              port.setItemSecret({
                vaultId: input.vaultId,
                itemId: input.itemId,
                secret: input.secret,
                reference: input.idempotencyKey,
              }),
            );
          } catch (error) {
            if (!isGone(error)) throw error;
            return { vaultId: input.vaultId, itemId: input.itemId, version: 0, gone: true };
          }
        });
        if (stored.gone) await reportGone(deps, subject(input));
        deps.log('item secret stored', { step: input.idempotencyKey, itemId: input.itemId, version: stored.version });
        return stored;
      } catch (error) {
        if (input.targetChanged) await reportIncomplete(deps, input);
        throw error;
      }
    },

    /**
     * The target accepts exactly what the item holds now, and refuses the secret this rotation replaced. The
     * item is the truth: when two grants of one item end together, their rotations interleave (A and B set in
     * the target, then B and A stored), and whichever is stored last is the secret; each rotation's last step
     * brings the target to the item's secret, so the last one to run leaves both equal. A target that cannot be
     * checked (a command) is given the item's secret again; one that still takes the old secret is an alert.
     */
    async verifyRotation(input: VerifyRotationInput): Promise<RotationCheck> {
      const port = deps.onePassword(input.integration);
      const check = await endingAttempt(deps, subject(input), () =>
        heartbeating(async () => {
          const rotator = target(input.rotator);
          const current = await port.getItemSecret(input.vaultId, input.itemId);
          let result = await rotator.verify(current, input.previous);
          if (!result.checked || !result.newAccepted) {
            await rotator.setSecret(current, input.idempotencyKey);
            result = await rotator.verify(current, input.previous);
          }
          if (result.checked && !result.newAccepted)
            throw new TargetError('refused', `target ${input.rotator.target} refuses the item's secret`);
          if (result.checked && result.previousRefused === false)
            throw new TargetError('refused', `target ${input.rotator.target} still accepts the previous secret`);
          if (current !== input.secret)
            deps.log('a later rotation of the item superseded this one', { step: input.idempotencyKey });
          return result;
        }),
      );
      deps.log('rotation verified', { step: input.idempotencyKey, checked: check.checked });
      return check;
    },

    /**
     * Requests made before rotators existed: the item gets a new secret from 1Password's generator. An attempt
     * that follows one which rotated and then died returns that rotation (from its heartbeat details). One
     * whose earlier call got no answer rotates again: 1Password takes no idempotency key, and a second
     * rotation is harmless (the secret the requester saw is gone either way), one skipped is not.
     */
    async rotateItemSecret(input: RotateSecretInput): Promise<RotateSecretResult> {
      const context = Context.current();
      const earlier = context.info.heartbeatDetails as { rotated?: RotateSecretResult } | undefined;
      if (earlier?.rotated) return earlier.rotated;
      const port = deps.onePassword(input.integration);
      const what = { step: input.idempotencyKey, integration: input.integration, resourceId: input.itemId };
      const result = await endingAttempt(deps, what, async (): Promise<RotateSecretResult> => {
        try {
          return await port.rotateItemSecret({
            vaultId: input.vaultId,
            itemId: input.itemId,
            reference: input.idempotencyKey,
          });
        } catch (error) {
          if (!isGone(error)) throw error;
          return { vaultId: input.vaultId, itemId: input.itemId, version: 0, gone: true };
        }
      });
      context.heartbeat({ rotated: result });
      if (result.gone) await reportGone(deps, what);
      deps.log('item secret rotated', { step: input.idempotencyKey, itemId: input.itemId, version: result.version });
      return result;
    },
  };
}

/** The target changed and 1Password does not hold its new secret yet: never silent. */
async function reportIncomplete(deps: ActivityContext, input: StoreItemSecretInput): Promise<void> {
  const attempt = Context.current().info.attempt;
  if ((attempt & (attempt - 1)) !== 0) return;
  const what = { step: input.idempotencyKey, integration: input.integration, resourceId: input.resourceId };
  await alertAdmins(
    deps,
    what,
    'rotation-incomplete',
    `incomplete:${attempt}`,
    'the target has a new secret that 1Password does not hold yet; still trying',
    { attempt },
  );
}
