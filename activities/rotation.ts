import { Context } from '@temporalio/activity';
import type { ActivityContext } from './context';
import { endingAttempt, isGone, reportGone } from './ending';
import type { RotateSecretInput, RotateSecretResult } from './types';

/** Rotate-on-revoke: the item gets a new secret when access ends. */
export function rotationActivities(deps: ActivityContext) {
  return {
    /**
     * Gives the item a new secret; an item that no longer exists cannot be rotated, and admins are told.
     * An attempt that follows one which rotated and then died returns that rotation (from its heartbeat
     * details). One whose earlier call got no answer rotates again: 1Password takes no idempotency key, and
     * a second rotation is harmless (the secret the requester saw is gone either way), one skipped is not.
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
