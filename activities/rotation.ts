import type { ActivityContext } from './context';
import { endingAttempt, isGone, reportGone } from './ending';
import type { RotateSecretInput, RotateSecretResult } from './types';

/** Rotate-on-revoke: the item gets a new secret when access ends. */
export function rotationActivities(deps: ActivityContext) {
  return {
    /** Gives the item a new secret; an item that no longer exists cannot be rotated, and admins are told. */
    async rotateItemSecret(input: RotateSecretInput): Promise<RotateSecretResult> {
      const port = deps.onePassword(input.integration);
      const what = { step: input.idempotencyKey, integration: input.integration, resourceId: input.itemId };
      const result = await endingAttempt(deps, what, async (): Promise<RotateSecretResult> => {
        try {
          return await port.rotateItemSecret({
            vaultId: input.vaultId,
            itemId: input.itemId,
            idempotencyKey: input.idempotencyKey,
          });
        } catch (error) {
          if (!isGone(error)) throw error;
          return { vaultId: input.vaultId, itemId: input.itemId, version: 0, gone: true };
        }
      });
      if (result.gone) await reportGone(deps, what);
      deps.log('item secret rotated', { step: input.idempotencyKey, itemId: input.itemId, version: result.version });
      return result;
    },
  };
}
