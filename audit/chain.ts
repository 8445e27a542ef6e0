import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils';
import { canonicalJson } from '../trust/canonical-json';
import type { TrustedKeys } from '../contracts/command';

/**
 * Tamper-evident, signed JSON Lines: every record carries the hash of the record before it, its own
 * hash over (sequence + previous hash + canonical body), and an Ed25519 signature over that hash, which
 * is the head of the chain so far. The last record (`type: "head"`) says how many came before it.
 * Deleting, reordering or editing a line breaks the chain; an edit chained again with fresh hashes
 * breaks the signatures, from the first line edited; cutting the end loses the head record.
 */
export const CHAIN_GENESIS = 'sha256:' + '0'.repeat(64);
export const HEAD_RECORD_TYPE = 'head';

export interface ChainedRecord<T> {
  seq: number;
  prevHash: string;
  hash: string;
  /** The audit key that signed `hash`, and the signature (hex). */
  keyId: string;
  signature: string;
  record: T;
}

/** Signs a chain head: the audit signing key (audit/signing-key.ts). */
export interface ChainSigner {
  keyId: string;
  sign(data: Uint8Array): string;
}

function hashOf(seq: number, prevHash: string, record: unknown): string {
  return (
    'sha256:' +
    createHash('sha256')
      .update(`${seq}\n${prevHash}\n${canonicalJson(record)}`)
      .digest('hex')
  );
}

/** What is signed: the head behind a fixed label, so the signature means nothing in any other protocol. */
function headSigningInput(hash: string): Uint8Array {
  return utf8ToBytes(`latchkey-audit-head-v1\n${hash}`);
}

/** Chains and signs records one by one, so an export can stream without holding everything in memory. */
export class ChainWriter<T extends object> {
  private seq = 0;
  private prevHash = CHAIN_GENESIS;

  constructor(private readonly signer: ChainSigner) {}

  next(record: T | { type: typeof HEAD_RECORD_TYPE; records: number }): ChainedRecord<unknown> {
    const seq = ++this.seq;
    const hash = hashOf(seq, this.prevHash, record);
    const signature = this.signer.sign(headSigningInput(hash));
    const chained = { seq, prevHash: this.prevHash, hash, keyId: this.signer.keyId, signature, record };
    this.prevHash = hash;
    return chained;
  }

  line(record: T): string {
    return JSON.stringify(this.next(record));
  }

  /** The closing record: the signed head over everything, with the count that proves nothing was cut. */
  headLine(): string {
    return JSON.stringify(this.next({ type: HEAD_RECORD_TYPE, records: this.seq }));
  }
}

export type ChainVerdict =
  | { ok: true; records: number; lastHash: string; keyIds: string[] }
  | { ok: false; line: number; reason: string; records: number };

function signatureHolds(chained: ChainedRecord<unknown>, keys: TrustedKeys): boolean {
  const key = Object.prototype.hasOwnProperty.call(keys, chained.keyId) ? keys[chained.keyId] : undefined;
  if (!key || typeof chained.signature !== 'string' || !/^[0-9a-f]{128}$/.test(chained.signature)) return false;
  try {
    return ed25519.verify(hexToBytes(chained.signature), headSigningInput(chained.hash), hexToBytes(key), {
      zip215: false,
    });
  } catch {
    return false;
  }
}

/**
 * Checks every line of an export against the audit keys an auditor trusts; reports the first line where
 * the chain or a signature breaks. `onRecord` sees each record once its line is proven.
 */
export function verifyChain(
  lines: Iterable<string>,
  keys: TrustedKeys,
  onRecord: (record: unknown, line: number) => string | undefined = () => undefined,
): ChainVerdict {
  let expectedSeq = 1;
  let prevHash = CHAIN_GENESIS;
  let lineNumber = 0;
  let closed = false;
  const keyIds = new Set<string>();
  const broken = (reason: string) => ({ ok: false as const, line: lineNumber, reason, records: expectedSeq - 1 });
  for (const raw of lines) {
    lineNumber += 1;
    if (raw.trim() === '') continue;
    if (closed) return broken('a record follows the signed head: it was appended afterwards');
    let parsed: ChainedRecord<unknown>;
    try {
      parsed = JSON.parse(raw) as ChainedRecord<unknown>;
    } catch {
      return broken('not valid JSON');
    }
    if (parsed.seq !== expectedSeq) {
      return broken(`expected record ${expectedSeq}, found ${String(parsed.seq)}: a record was removed or reordered`);
    }
    if (parsed.prevHash !== prevHash) return broken('previous-hash mismatch: the chain was cut here');
    if (hashOf(parsed.seq, parsed.prevHash, parsed.record) !== parsed.hash) {
      return broken('hash mismatch: this record was altered');
    }
    if (typeof parsed.keyId !== 'string' || !Object.prototype.hasOwnProperty.call(keys, parsed.keyId)) {
      return broken(
        parsed.keyId === undefined
          ? 'the record is not signed'
          : `the record is signed with key "${String(parsed.keyId)}", which is not trusted`,
      );
    }
    if (!signatureHolds(parsed, keys)) {
      return broken('signature mismatch: this record was altered and chained again, or signed by someone else');
    }
    const record = parsed.record as { type?: unknown; records?: unknown } | null;
    if (record?.type === HEAD_RECORD_TYPE) {
      if (record.records !== expectedSeq - 1) return broken('the signed head counts a different number of records');
      closed = true;
    } else {
      const refusal = onRecord(parsed.record, lineNumber);
      if (refusal) return broken(refusal);
    }
    keyIds.add(parsed.keyId);
    prevHash = parsed.hash;
    expectedSeq += 1;
  }
  if (expectedSeq === 1) return { ok: false, line: 0, reason: 'the file holds no records', records: 0 };
  if (!closed) {
    lineNumber += 1;
    return broken('the signed head record is missing: records were removed from the end');
  }
  // The head record is the export's seal, not one of its records.
  return { ok: true, records: expectedSeq - 2, lastHash: prevHash, keyIds: [...keyIds] };
}
