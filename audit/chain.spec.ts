import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { canonicalJson } from '../trust/canonical-json';
import { ChainWriter, type ChainSigner, verifyChain } from './chain';

function signerOf(keyId: string): { signer: ChainSigner; publicHex: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' });
  return {
    signer: { keyId, sign: (data) => sign(null, data, privateKey).toString('hex') },
    publicHex: Buffer.from(x!, 'base64url').toString('hex'),
  };
}

const auditKey = signerOf('audit-1');
const keys = { 'audit-1': auditKey.publicHex };

function exportOf(records: object[], signer = auditKey.signer): string[] {
  const writer = new ChainWriter<object>(signer);
  return [...records.map((record) => writer.line(record)), writer.headLine()];
}

/** What someone without the audit key can do: edit, then chain everything again, signing with a key of their own. */
function rechained(lines: string[], signer: ChainSigner): string[] {
  const writer = new ChainWriter<object>(signer);
  const bodies = lines.slice(0, -1).map((line) => (JSON.parse(line) as { record: object }).record);
  const relined = bodies.map((record) => writer.line(record));
  return [...relined, writer.headLine()];
}

const records = [
  { type: 'history', requestId: 'req_aaaaaaaaaa', events: [{ id: 1 }] },
  { type: 'timeline', requestId: 'req_aaaaaaaaaa', entries: [{ at: '2026-11-27T10:00:00Z', what: 'requested' }] },
  { type: 'history', requestId: 'req_bbbbbbbbbb', events: [{ id: 1 }, { id: 2 }] },
];

describe('audit hash chain', () => {
  it('verifies an untouched export, its signed head included', () => {
    expect(verifyChain(exportOf(records), keys)).toEqual({
      ok: true,
      records: 3,
      lastHash: expect.stringMatching(/^sha256:/),
      keyIds: ['audit-1'],
    });
  });

  it('detects a deleted line', () => {
    const lines = exportOf(records);
    lines.splice(1, 1);
    expect(verifyChain(lines, keys)).toMatchObject({ ok: false, line: 2, reason: expect.stringContaining('removed') });
  });

  it('detects lines cut from the end: the signed head is missing', () => {
    const lines = exportOf(records).slice(0, 2);
    expect(verifyChain(lines, keys)).toMatchObject({ ok: false, line: 3, reason: expect.stringContaining('head') });
  });

  it('detects an edited line', () => {
    const lines = exportOf(records);
    lines[1] = lines[1].replace('requested', 'approved');
    expect(verifyChain(lines, keys)).toMatchObject({ ok: false, line: 2, reason: expect.stringContaining('altered') });
  });

  it('detects an edit chained again with fresh hashes, and names the first line edited', () => {
    const lines = exportOf(records);
    const edited = lines.map((line, i) => (i === 1 ? line.replace('requested', 'approved') : line));
    // Signed with the real key id but another key...
    const forger = signerOf('audit-1').signer;
    expect(verifyChain(rechained(edited, forger), keys)).toMatchObject({
      ok: false,
      line: 1,
      reason: expect.stringContaining('signature mismatch'),
    });
    // ...or the untouched first line kept as it was, and only the rest forged: the first bad line is named.
    const forged = rechained(edited, forger);
    forged[0] = lines[0];
    expect(verifyChain(forged, keys)).toMatchObject({ ok: false, line: 2 });
  });

  it('refuses a record signed with an untrusted key, and an unsigned export', () => {
    const other = signerOf('someone-else').signer;
    expect(verifyChain(exportOf(records, other), keys)).toMatchObject({
      ok: false,
      line: 1,
      reason: 'the record is signed with key "someone-else", which is not trusted',
    });
    const unsigned = exportOf(records).map((line) => {
      const { keyId: _keyId, signature: _signature, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(rest);
    });
    expect(verifyChain(unsigned, keys)).toMatchObject({ ok: false, line: 1, reason: 'the record is not signed' });
  });

  it('refuses a record appended after the signed head', () => {
    const lines = exportOf(records);
    lines.push(lines[0]);
    expect(verifyChain(lines, keys)).toMatchObject({ ok: false, line: 5, reason: expect.stringContaining('appended') });
  });

  it('detects reordered lines', () => {
    const lines = exportOf(records);
    [lines[0], lines[1]] = [lines[1], lines[0]];
    expect(verifyChain(lines, keys)).toMatchObject({ ok: false, line: 1 });
  });

  it('lets the caller refuse a proven record, naming its line', () => {
    const verdict = verifyChain(exportOf(records), keys, (record, line) =>
      (record as { type: string }).type === 'timeline' ? `timeline at line ${line} refused` : undefined,
    );
    expect(verdict).toMatchObject({ ok: false, line: 2, reason: 'timeline at line 2 refused' });
  });

  it('refuses an empty file', () => {
    expect(verifyChain([], keys)).toMatchObject({ ok: false, reason: 'the file holds no records' });
  });

  it('hashes the same record the same way whatever its key order', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe(canonicalJson({ a: [2, { c: 4, d: 3 }], b: 1 }));
  });
});
