import { createPublicKey, type KeyObject, randomBytes, sign } from 'node:crypto';
import type { Actor } from '../contracts/identity';
import type { CommandClaims, CommandKind, SignedCommand } from '../contracts/command';
import { COMMAND_LIFETIME_MS, inputDigest, signingInput } from './command';

/** The API's private command key (Ed25519) and its id. */
export interface CommandSigningKey {
  id: string;
  privateKey: KeyObject;
}

/**
 * Signs commands for request workflows (trust/command.ts says why). The clock is the signer's: tests on a
 * time-skipping server sign with the server's time, which is what the workflow compares against.
 */
export class CommandSigner {
  constructor(
    private readonly key: CommandSigningKey,
    private readonly clock: () => number = Date.now,
  ) {}

  get keyId(): string {
    return this.key.id;
  }

  /** The raw public key in hex, as `TrustedKeys` holds it. */
  publicKeyHex(): string {
    const jwk = createPublicKey(this.key.privateKey).export({ format: 'jwk' });
    return Buffer.from(jwk.x!, 'base64url').toString('hex');
  }

  sign<Args extends object>(
    kind: Exclude<CommandKind, 'start'>,
    workflowId: string,
    actor: Actor,
    args: Args,
    nowMs = this.clock(),
    /** A nonce derived from what asked for the command (a Slack click), so that asking again is refused. */
    nonce = randomBytes(18).toString('base64url'),
  ): SignedCommand {
    return this.signClaims({
      v: 1,
      kind,
      workflowId,
      actor: { id: actor.id, groups: actor.groups, roles: actor.roles },
      // Undefined members are dropped, as the workflow would see them after JSON.
      args: JSON.parse(JSON.stringify(args)) as Record<string, unknown>,
      issuedAt: new Date(nowMs).toISOString(),
      expiresAt: new Date(nowMs + COMMAND_LIFETIME_MS).toISOString(),
      nonce,
    });
  }

  /** The start of a request: binds the whole workflow input (its digest) to the requester who asked. */
  signStart<Input extends object>(
    workflowId: string,
    actor: Actor,
    input: Input,
    nowMs = this.clock(),
  ): Input & {
    command: SignedCommand;
  } {
    const command = this.signClaims({
      v: 1,
      kind: 'start',
      workflowId,
      actor: { id: actor.id, groups: actor.groups, roles: actor.roles },
      args: { inputDigest: inputDigest(JSON.parse(JSON.stringify(input)) as object) },
      issuedAt: new Date(nowMs).toISOString(),
      expiresAt: new Date(nowMs + COMMAND_LIFETIME_MS).toISOString(),
      nonce: randomBytes(18).toString('base64url'),
    });
    return { ...input, command };
  }

  private signClaims(claims: CommandClaims): SignedCommand {
    const text = JSON.stringify(claims);
    return {
      keyId: this.key.id,
      claims: text,
      signature: sign(null, signingInput(text), this.key.privateKey).toString('hex'),
    };
  }
}
