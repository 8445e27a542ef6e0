import type { Actor } from './identity';

/**
 * Signed commands as they travel between the API and the workflows (trust/command.ts signs and checks
 * them): who asked for what, for which request, when.
 */
export const COMMAND_KINDS = ['start', 'approve', 'reject', 'cancel', 'revoke', 'extend'] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

/** What the API asserts. Signed as the exact text `SignedCommand.claims`, so no re-serialisation is trusted. */
export interface CommandClaims<Args = Record<string, unknown>> {
  v: 1;
  kind: CommandKind;
  /** The request's workflow id: a command made for one request is refused by every other. */
  workflowId: string;
  /** The verified token's subject, groups and roles. */
  actor: Actor;
  /** The command's arguments; for `start`, the digest of the workflow input (`inputDigest`). */
  args: Args;
  issuedAt: string;
  expiresAt: string;
  /** Unique per command: a workflow accepts each nonce once (the API also makes it the Update id). */
  nonce: string;
}

/** A command as it travels: the claims text, the key that signed it, and the signature. */
export interface SignedCommand {
  keyId: string;
  claims: string;
  /** Ed25519 over `signingInput(claims)`, hex. */
  signature: string;
}

/** Public keys a verifier trusts, by key id: raw 32-byte Ed25519 keys in hex. */
export type TrustedKeys = Readonly<Record<string, string>>;

/**
 * What a worker trusts, from its own configuration: the API keys whose commands it accepts, and the key of
 * messages between its workflows and activities (trust/internal-message.ts), which only workers hold.
 */
export interface WorkerTrust {
  commandKeys: TrustedKeys;
  /** 32 bytes, hex. */
  internalKey: string;
}
