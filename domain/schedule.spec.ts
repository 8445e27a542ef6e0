import { approval, HOUR } from '../test/support/domain-fixtures';
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
    expect(
      grantModeOf({ mode: 'share-link', vaultId: 'v', itemId: 'i', oneTimeView: true, rotateOnRevoke: true }),
    ).toBe('rotate-on-revoke');
    expect(guaranteeFor('share-link', 'T1', 'T2').statement).toBe(
      "viewable once, by the requester's e-mail, until T2; a share link cannot be withdrawn early",
    );
    expect(guaranteeFor('vault-group', 'T1').statement).toBe('1Password access removed at T1');
    expect(guaranteeFor('rotate-on-revoke', 'T1', 'T2').statement).toBe('the credential you saw stops working at T1');
  });

  it('revoke backoff doubles from one second and is capped at five minutes', () => {
    expect([1, 2, 3, 4, 5].map((n) => revokeBackoffMs(n))).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(revokeBackoffMs(100)).toBe(300_000);
  });
});
