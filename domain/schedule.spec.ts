import { approval, HOUR } from '../test/support/domain-fixtures';
import type { GrantSpec } from '../contracts/snapshot';
import { grantModeOf, guaranteeFor } from './guarantees';
import { nextEscalationAt, nextReminderAt, revokeBackoffMs } from './schedule';

describe('schedules and guarantees', () => {
  it('reminders every interval from the start, never at or after the deadline', () => {
    expect(nextReminderAt(0, HOUR, 0, 10 * HOUR)).toBe(HOUR);
    expect(nextReminderAt(0, HOUR, HOUR, 10 * HOUR)).toBe(2 * HOUR);
    expect(nextReminderAt(0, HOUR, 9 * HOUR, 10 * HOUR)).toBeUndefined();
    expect(nextReminderAt(0, undefined, 0, 10 * HOUR)).toBeUndefined();
  });

  it('escalation after escalateAfterMs from when the tier was asked, none after the last tier', () => {
    expect(nextEscalationAt(approval(), 0, 1000)).toBe(1000 + 2 * HOUR);
    expect(nextEscalationAt(approval(), 1, 1000)).toBeUndefined();
  });

  it('states each mode’s guarantee honestly', () => {
    const item = { mode: 'share-link', vaultId: 'v', itemId: 'i', oneTimeView: true } as const;
    const rotated = { ...item, rotateOnRevoke: true };
    expect(grantModeOf(rotated)).toBe('rotate-on-revoke');
    expect(guaranteeFor({ ...item, rotateOnRevoke: false }, 'T1', 'T2').statement).toBe(
      "viewable once, by the requester's e-mail, until T2; a share link cannot be withdrawn early",
    );
    const vault: GrantSpec = { mode: 'vault-group', vaultId: 'v', groupId: 'g', permissions: [] };
    expect(guaranteeFor(vault, 'T1').statement).toBe('1Password access removed at T1');
    const postgres = { kind: 'postgres', target: 'db', role: 'app', endSessions: true } as const;
    expect(guaranteeFor({ ...rotated, rotator: postgres }, 'T1', 'T2').statement).toBe(
      'the credential you saw stops working at T1',
    );
    const login: GrantSpec = { mode: 'database-role', target: 'db', vaultId: 'v', memberOf: ['r'], connectionLimit: 2 };
    expect(guaranteeFor(login, 'T1').statement).toBe('a database login of your own, refused by the database after T1');
  });

  it('says that only the item changes when nothing rotates the credential where it is used', () => {
    const rotated = { mode: 'share-link', vaultId: 'v', itemId: 'i', oneTimeView: true, rotateOnRevoke: true } as const;
    for (const grant of [{ ...rotated, rotator: { kind: 'none' } } as const, rotated]) {
      expect(guaranteeFor(grant, 'T1').statement).toMatch(/only the item changes/);
    }
  });

  it('revoke backoff doubles from one second and is capped at five minutes', () => {
    expect([1, 2, 3, 4, 5].map((n) => revokeBackoffMs(n))).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(revokeBackoffMs(100)).toBe(300_000);
  });
});
