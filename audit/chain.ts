import { createHash } from 'node:crypto';
import { canonicalJson } from '../trust/canonical-json';

/**
 * Tamper-evident JSON Lines: every record carries the hash of the record before it and its own hash
 * over (previous hash + canonical body). Deleting, reordering or editing any line breaks the chain
 * from that line on, which `verifyChain` reports.
 */
export const CHAIN_GENESIS = 'sha256:' + '0'.repeat(64);

export interface ChainedRecord<T> {
  seq: number;
  prevHash: string;
  hash: string;
  record: T;
}

function hashOf(seq: number, prevHash: string, record: unknown): string {
  return (
    'sha256:' +
    createHash('sha256')
      .update(`${seq}\n${prevHash}\n${canonicalJson(record)}`)
      .digest('hex')
  );
}

/** Chains records one by one, so an export can stream without holding everything in memory. */
export class ChainWriter<T> {
  private seq = 0;
  private prevHash = CHAIN_GENESIS;

  next(record: T): ChainedRecord<T> {
    const seq = ++this.seq;
    const hash = hashOf(seq, this.prevHash, record);
    const chained = { seq, prevHash: this.prevHash, hash, record };
    this.prevHash = hash;
    return chained;
  }

  line(record: T): string {
    return JSON.stringify(this.next(record));
  }
}

export type ChainVerdict =
  { ok: true; records: number; lastHash: string } | { ok: false; line: number; reason: string; records: number };

/** Checks every line of an export; reports the first line where the chain breaks. */
export function verifyChain(lines: Iterable<string>): ChainVerdict {
  let expectedSeq = 1;
  let prevHash = CHAIN_GENESIS;
  let lineNumber = 0;
  for (const raw of lines) {
    lineNumber += 1;
    if (raw.trim() === '') continue;
    let parsed: ChainedRecord<unknown>;
    try {
      parsed = JSON.parse(raw) as ChainedRecord<unknown>;
    } catch {
      return { ok: false, line: lineNumber, reason: 'not valid JSON', records: expectedSeq - 1 };
    }
    if (parsed.seq !== expectedSeq) {
      return {
        ok: false,
        line: lineNumber,
        reason: `expected record ${expectedSeq}, found ${String(parsed.seq)}: a record was removed or reordered`,
        records: expectedSeq - 1,
      };
    }
    if (parsed.prevHash !== prevHash) {
      return {
        ok: false,
        line: lineNumber,
        reason: 'previous-hash mismatch: the chain was cut here',
        records: expectedSeq - 1,
      };
    }
    if (hashOf(parsed.seq, parsed.prevHash, parsed.record) !== parsed.hash) {
      return {
        ok: false,
        line: lineNumber,
        reason: 'hash mismatch: this record was altered',
        records: expectedSeq - 1,
      };
    }
    prevHash = parsed.hash;
    expectedSeq += 1;
  }
  if (expectedSeq === 1) return { ok: false, line: 0, reason: 'the file holds no records', records: 0 };
  return { ok: true, records: expectedSeq - 1, lastHash: prevHash };
}
