import { createPrivateKey } from 'node:crypto';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { CommandKind, SignedCommand, TrustedKeys, WorkerTrust } from '../../contracts/command';
import type { Actor } from '../../contracts/identity';
import type { AccessRequestInput } from '../../contracts/request';
import { CommandSigner, type CommandSigningKey } from '../../trust/command-signer';

/**
 * TEST-ONLY command signing key. It is public (it is in the repository), so it proves nothing: it exists so
 * that tests and recorded histories have a fixed key. Never trust it in a deployment.
 */
export const TEST_ONLY_COMMAND_KEY: CommandSigningKey = Object.freeze({
  id: 'test-only-commands-1',
  privateKey: createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      d: 'GAxQpBDMlboicWwCiRkdAkFtiqPYo5W9Lkeh177jrJI',
      x: 'G5bdZJsVwIw5rrxqoBLqIt-qrESUFRV8ScCOhWNCAtc',
    },
  }),
});

/** What the test workers trust: the TEST-ONLY key. */
export const TEST_TRUSTED_COMMAND_KEYS: TrustedKeys = Object.freeze({
  [TEST_ONLY_COMMAND_KEY.id]: new CommandSigner(TEST_ONLY_COMMAND_KEY).publicKeyHex(),
});

/** What test workers trust: the TEST-ONLY command key, and a TEST-ONLY internal message key (public too). */
export const TEST_WORKER_TRUST: WorkerTrust = Object.freeze({
  commandKeys: TEST_TRUSTED_COMMAND_KEYS,
  internalKey: '6c617463686b65792d746573742d6f6e6c792d696e7465726e616c2d6b657921',
});

const UPDATE_KINDS: ReadonlySet<string> = new Set<CommandKind>(['approve', 'reject', 'cancel', 'revoke', 'extend']);

/**
 * A client interceptor that signs what tests send as the API would: a request's start (as its requester, stamped
 * with the moment it is made), and Updates written the way tests read best, `{ actor, ...args }`, as signed
 * commands of that actor. The clock is the server's (a time-skipping server's time runs ahead of the real one).
 * Commands already signed, and everything else, pass untouched, so a test can still send a forged or unsigned
 * command on purpose.
 */
export function signingInterceptor(
  now: () => Promise<number>,
  key: CommandSigningKey = TEST_ONLY_COMMAND_KEY,
): WorkflowClientInterceptor {
  const signer = new CommandSigner(key);
  return {
    async startWithDetails(input, next) {
      const [first, ...rest] = input.options.args as [AccessRequestInput | undefined, ...unknown[]];
      if (input.workflowType !== 'accessRequestWorkflow' || !first || first.command) return next(input);
      const { requester } = first;
      const actor: Actor = { id: requester.id, groups: requester.groups, roles: [] };
      // Made now, as the API stamps the requests it accepts: the request's clocks run from it.
      const at = await now();
      const made = { ...first, requestedAt: new Date(at).toISOString() };
      const signed = signer.signStart(input.options.workflowId, actor, made, at);
      return next({ ...input, options: { ...input.options, args: [signed, ...rest] } });
    },
    async startUpdate(input, next) {
      const [first] = input.args as [{ actor?: Actor; claims?: unknown } | undefined];
      if (!UPDATE_KINDS.has(input.updateName) || !first?.actor || first.claims !== undefined) return next(input);
      const { actor, ...args } = first;
      const command = signer.sign(
        input.updateName as Exclude<CommandKind, 'start'>,
        input.workflowExecution.workflowId,
        actor,
        args,
        await now(),
      );
      return next({ ...input, args: [command] });
    },
  };
}

/**
 * An Update's argument as a test writes it, `{ actor, ...args }`, for `signingInterceptor` to sign on the way
 * out: typed as the signed command it becomes.
 */
export function toSign<Args extends object>(argument: Args & { actor: Actor }): SignedCommand {
  return argument as unknown as SignedCommand;
}
