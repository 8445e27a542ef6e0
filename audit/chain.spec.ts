import { canonicalJson } from '../trust/canonical-json';
import { ChainWriter, verifyChain } from './chain';

function exportOf(records: unknown[]): string[] {
  const writer = new ChainWriter<unknown>();
  return records.map((record) => writer.line(record));
}

const records = [
  { type: 'history', requestId: 'req_aaaaaaaaaa', events: [{ id: 1 }] },
  { type: 'timeline', requestId: 'req_aaaaaaaaaa', entries: [{ at: '2026-11-27T10:00:00Z', what: 'requested' }] },
  { type: 'history', requestId: 'req_bbbbbbbbbb', events: [{ id: 1 }, { id: 2 }] },
];

describe('audit hash chain', () => {
  it('verifies an untouched export', () => {
    expect(verifyChain(exportOf(records))).toEqual({
      ok: true,
      records: 3,
      lastHash: expect.stringMatching(/^sha256:/),
    });
  });

  it('detects a deleted line', () => {
    const lines = exportOf(records);
    lines.splice(1, 1);
    expect(verifyChain(lines)).toMatchObject({ ok: false, line: 2, reason: expect.stringContaining('removed') });
  });

  it('detects a deleted last line only through the record count, so verify reports how many it saw', () => {
    const lines = exportOf(records).slice(0, 2);
    expect(verifyChain(lines)).toMatchObject({ ok: true, records: 2 });
  });

  it('detects an edited line', () => {
    const lines = exportOf(records);
    lines[1] = lines[1].replace('requested', 'approved');
    expect(verifyChain(lines)).toMatchObject({ ok: false, line: 2, reason: expect.stringContaining('altered') });
  });

  it('detects an edited line whose hash was recomputed naively, because the next line no longer links', () => {
    const lines = exportOf(records);
    const forged = new ChainWriter<unknown>();
    forged.next(records[0]);
    lines[1] = forged.line({ ...records[1], entries: [] });
    const verdict = verifyChain(lines);
    expect(verdict.ok).toBe(false);
  });

  it('detects reordered lines', () => {
    const lines = exportOf(records);
    [lines[0], lines[1]] = [lines[1], lines[0]];
    expect(verifyChain(lines)).toMatchObject({ ok: false, line: 1 });
  });

  it('refuses an empty file', () => {
    expect(verifyChain([])).toMatchObject({ ok: false, reason: 'the file holds no records' });
  });

  it('hashes the same record the same way whatever its key order', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe(canonicalJson({ a: [2, { c: 4, d: 3 }], b: 1 }));
  });
});
