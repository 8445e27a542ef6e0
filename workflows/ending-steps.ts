import type { RotatorSpec } from '../contracts/snapshot';
import { endingSteps } from './activity-stubs';

/**
 * Ends of access made of several steps, shared by a request's own end and the reconciler's (after an operator
 * terminated the request): each step an activity keyed `<request workflow id>:<step>`, so that both, and every
 * retry, make the same calls.
 */
export interface EndingSubject {
  /** The request's workflow id. */
  workflowId: string;
  integration: string;
  resourceId: string;
}

export type RotationOutcome = 'secret-rotated' | 'item-secret-replaced' | 'item-gone';

/**
 * Rotate-on-revoke, in the order that survives a crash anywhere: a new secret; set in the target; written to
 * the item; checked (the target takes the item's secret and refuses the old, and is given it again if not). The secrets are activity results, so
 * they live only in codec-encrypted history and every later step of a new worker uses the same ones.
 */
export async function rotateCredential(
  subject: EndingSubject,
  item: { vaultId: string; itemId: string },
  rotator: RotatorSpec,
): Promise<RotationOutcome> {
  const step = (name: string) => ({
    idempotencyKey: `${subject.workflowId}:rotate:${name}`,
    integration: subject.integration,
    resourceId: subject.resourceId,
  });
  const prepared = await endingSteps.prepareRotation({ ...step('prepare'), ...item });
  // The item is gone (admins are told): nobody could hold a new secret, so the target is left as it is.
  if (prepared.gone) return 'item-gone';
  const { secret, previous } = prepared;
  const targetChanged = rotator.kind !== 'none';
  if (rotator.kind !== 'none') await endingSteps.setTargetSecret({ ...step('target'), rotator, secret });
  const stored = await endingSteps.storeItemSecret({ ...step('item'), ...item, secret, targetChanged });
  if (stored.gone) return 'item-gone';
  if (rotator.kind === 'none') return 'item-secret-replaced';
  await endingSteps.verifyRotation({ ...step('verify'), ...item, rotator, secret, previous });
  return 'secret-rotated';
}

/** A database-role grant's login: its sessions ended and the role dropped, then its item deleted. */
export async function dropDatabaseLogin(
  subject: EndingSubject,
  login: { target: string; role: string; vaultId: string; itemTitle: string },
): Promise<void> {
  const step = (name: string) => ({
    idempotencyKey: `${subject.workflowId}:${name}`,
    integration: subject.integration,
    resourceId: subject.resourceId,
  });
  await endingSteps.dropDatabaseLogin({ ...step('drop-login'), target: login.target, role: login.role });
  await endingSteps.deleteLoginItem({ ...step('delete-login-item'), vaultId: login.vaultId, title: login.itemTitle });
}
