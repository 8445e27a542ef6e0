import { addMissingSeed, seedState } from './state';

describe(addMissingSeed.name, () => {
  const now = new Date('2026-11-30T08:00:00.000Z');

  it("adds the seed's vaults and items an older state file lacks, and changes nothing it holds", () => {
    const older = seedState(now);
    older.vaults = older.vaults.filter((vault) => vault.id !== 'vlt_logins');
    older.items = older.items.filter((item) => item.id !== 'itm_reporting_db');
    const before = structuredClone(older);

    expect(addMissingSeed(older, now)).toEqual(['vlt_logins', 'itm_reporting_db']);
    expect(older.vaults.map((vault) => vault.id)).toContain('vlt_logins');
    expect(older.items.find((item) => item.id === 'itm_reporting_db')?.fields.length).toBeGreaterThan(0);
    // What was there keeps its secrets.
    for (const item of before.items) expect(older.items.find((other) => other.id === item.id)).toEqual(item);
    expect(addMissingSeed(older, now)).toEqual([]);
  });
});
