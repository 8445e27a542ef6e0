import type { AccessRequestInput } from '../contracts/request';
import { inputDigest, verifyCommand } from '../trust/command';
import { nodeEd25519 } from '../trust/node-ed25519';
import type { ActivityContext } from './context';
import { workflowIdOf } from './heartbeat';

export type StartVerdict = { ok: true; keyId: string } | { ok: false; reason: string };

/**
 * The check of a request's signed start (trust/command.ts), run as a local activity at the start of the
 * workflow so that its verdict is recorded in history: replay reads the verdict and never depends on the keys
 * a worker trusts later (keys are rotated; a request lasts days).
 */
export function commandActivities(context: ActivityContext) {
  const signatureCheck = nodeEd25519();
  return {
    /** `atMs`: the workflow's time at its start (the server's clock, which the command's lifetime is measured on). */
    // eslint-disable-next-line @typescript-eslint/require-await -- an activity returns a promise
    async verifyStartCommand(input: AccessRequestInput, atMs: number): Promise<StartVerdict> {
      const workflowId = workflowIdOf() ?? '';
      const verdict = verifyCommand<{ inputDigest?: unknown }>(
        input.command,
        context.trust?.commandKeys ?? {},
        {
          kind: 'start',
          workflowId,
          nowMs: atMs,
        },
        signatureCheck,
      );
      const refuse = (reason: string): StartVerdict => {
        context.logger.warn({ workflowId, reason }, 'refused a request whose start is not signed by the API');
        return { ok: false, reason };
      };
      if (!verdict.ok) return refuse(verdict.reason);
      if (verdict.claims.actor.id !== input.requester?.id) return refuse('the start was signed for another requester');
      if (verdict.claims.args.inputDigest !== inputDigest(input)) return refuse('the input is not the one signed');
      return { ok: true, keyId: verdict.keyId };
    },
  };
}
