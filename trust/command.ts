import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils';
import {
  type CommandClaims,
  type CommandKind,
  COMMAND_KINDS,
  type SignedCommand,
  type TrustedKeys,
} from '../contracts/command';
import type { Actor } from '../contracts/identity';
import { canonicalJson } from './canonical-json';
import { type SignatureCheck, strictEd25519 } from './ed25519';

/**
 * Signed commands: the API signs every command it sends to a request's workflow (who, what, which
 * request, when, a nonce) with a key of its own, and the workflow checks the signature against keys from
 * the worker's configuration before anything else. Temporal carries the commands but is not trusted to say
 * who decided: whoever can reach it cannot approve as someone else. The signatures stay in history, so an
 * audit export proves each decision offline. Pure code (noble's Ed25519 by default): the workflow sandbox runs it;
 * callers that can reach node:crypto pass its check instead (trust/node-ed25519.ts).
 */
/** How long a signed command stays valid: long enough for a slow Update, too short to be kept for later. */
export const COMMAND_LIFETIME_MS = 5 * 60_000;
/** Clocks of the API and the workers differ a little: a command issued slightly ahead is accepted. */
export const CLOCK_SKEW_MS = 60_000;
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

/** What is signed: the claims text behind a fixed label, so a signature means nothing in any other protocol. */
export function signingInput(claims: string): Uint8Array {
  return utf8ToBytes(`latchkey-command-v1\n${claims}`);
}

/** The digest of a start command's workflow input (every field but the command itself). */
export function inputDigest(input: object): string {
  const { command: _command, ...rest } = input as { command?: unknown };
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(rest))));
}

export type CommandVerdict<Args> =
  { ok: true; claims: CommandClaims<Args>; keyId: string } | { ok: false; reason: string };

export interface CommandExpectation {
  kind: CommandKind;
  workflowId: string;
  /** The verifier's clock; omitted offline (an audit), where only the signature and the binding are checked. */
  nowMs?: number;
}

/**
 * Checks a command: a known key, a valid signature over the claims, the expected kind and request, and (with
 * a clock) that it is within its lifetime. The nonce is the caller's to check: only it knows which were used.
 */
export function verifyCommand<Args = Record<string, unknown>>(
  command: unknown,
  keys: TrustedKeys,
  expected: CommandExpectation,
  signatureCheck: SignatureCheck = strictEd25519,
): CommandVerdict<Args> {
  if (!isSignedCommand(command)) return refused('the command is not signed');
  const key = Object.prototype.hasOwnProperty.call(keys, command.keyId) ? keys[command.keyId] : undefined;
  if (key === undefined) return refused(`the command is signed with key "${command.keyId}", which is not trusted`);
  if (!signatureCheck(hexToBytes(command.signature), signingInput(command.claims), key))
    return refused('the command’s signature does not verify');
  const claims = parseClaims<Args>(command.claims);
  if (!claims) return refused('the command’s claims are malformed');
  if (claims.kind !== expected.kind) return refused(`the command is a signed ${claims.kind}, not ${expected.kind}`);
  if (claims.workflowId !== expected.workflowId) return refused('the command was signed for another request');
  if (expected.nowMs !== undefined) {
    const issued = Date.parse(claims.issuedAt);
    const expires = Date.parse(claims.expiresAt);
    if (expires - issued > COMMAND_LIFETIME_MS) return refused('the command’s lifetime is longer than allowed');
    if (issued > expected.nowMs + CLOCK_SKEW_MS) return refused('the command is issued in the future');
    if (expires < expected.nowMs) return refused('the command has expired');
  }
  return { ok: true, claims, keyId: command.keyId };
}

function refused(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

function isSignedCommand(value: unknown): value is SignedCommand {
  const command = value as Partial<SignedCommand> | null | undefined;
  return (
    typeof command === 'object' &&
    command !== null &&
    typeof command.keyId === 'string' &&
    typeof command.claims === 'string' &&
    command.claims.length <= 64 * 1024 &&
    typeof command.signature === 'string' &&
    /^[0-9a-f]{128}$/.test(command.signature)
  );
}

function parseClaims<Args>(text: string): CommandClaims<Args> | undefined {
  let claims: Partial<CommandClaims<Args>>;
  try {
    claims = JSON.parse(text) as Partial<CommandClaims<Args>>;
  } catch {
    return undefined;
  }
  const actor = claims.actor as Partial<Actor> | undefined;
  const valid =
    claims.v === 1 &&
    (COMMAND_KINDS as readonly unknown[]).includes(claims.kind) &&
    typeof claims.workflowId === 'string' &&
    typeof actor === 'object' &&
    actor !== null &&
    typeof actor.id === 'string' &&
    actor.id !== '' &&
    Array.isArray(actor.groups) &&
    actor.groups.every((group) => typeof group === 'string') &&
    Array.isArray(actor.roles) &&
    actor.roles.every((role) => typeof role === 'string') &&
    typeof claims.args === 'object' &&
    claims.args !== null &&
    !Array.isArray(claims.args) &&
    typeof claims.issuedAt === 'string' &&
    !Number.isNaN(Date.parse(claims.issuedAt)) &&
    typeof claims.expiresAt === 'string' &&
    !Number.isNaN(Date.parse(claims.expiresAt)) &&
    typeof claims.nonce === 'string' &&
    NONCE.test(claims.nonce);
  return valid ? (claims as CommandClaims<Args>) : undefined;
}
