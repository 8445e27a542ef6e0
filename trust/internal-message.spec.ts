import { macHolds, withMac } from './internal-message';

const KEY = 'ab'.repeat(32);
const LEASE = 'VaultLease:demo:vlt_1:grp_1';
const acquire = {
  op: 'acquire',
  leaseId: 'AccessRequest:req_1',
  replyTo: 'AccessRequest:req_1',
  permissions: ['read'],
};

describe(macHolds.name, () => {
  it('holds for the message as made, for its recipient, under the key', () => {
    expect(macHolds(KEY, withMac(KEY, acquire, LEASE), LEASE)).toBe(true);
  });

  it('fails for a message changed, sent to another workflow, made under another key, or without a MAC', () => {
    const sut = withMac(KEY, acquire, LEASE);
    expect(macHolds(KEY, { ...sut, permissions: ['read', 'write'] }, LEASE)).toBe(false);
    expect(macHolds(KEY, sut, 'VaultLease:demo:vlt_2:grp_1')).toBe(false);
    expect(macHolds('cd'.repeat(32), sut, LEASE)).toBe(false);
    expect(macHolds(KEY, acquire, LEASE)).toBe(false);
    expect(macHolds(KEY, { latchkeyRefused: 'plaintext-payload' }, LEASE)).toBe(false);
  });

  it('trusts nothing without a key, since an empty key is one everybody holds', () => {
    expect(macHolds('', withMac(KEY, acquire, LEASE), LEASE)).toBe(false);
    expect(() => withMac('', acquire, LEASE)).toThrow(/no internal message key/);
  });
});
