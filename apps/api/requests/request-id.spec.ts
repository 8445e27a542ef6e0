import { REQUEST_ID_PATTERN } from '../../../domain/ids';
import { idempotentRequestId, newRequestId } from './request-id';

describe('request ids', () => {
  it('makes new ids that match the shared pattern and differ each time', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newRequestId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(REQUEST_ID_PATTERN);
  });

  it('orders new ids by time', () => {
    expect(newRequestId(1_000).slice(0, 14) < newRequestId(2_000_000_000_000).slice(0, 14)).toBe(true);
  });

  it('derives the same id from the same caller and idempotency key', () => {
    const sut = idempotentRequestId('alice', 'retry-key-0001');
    expect(sut).toMatch(REQUEST_ID_PATTERN);
    expect(idempotentRequestId('alice', 'retry-key-0001')).toBe(sut);
  });

  it('derives different ids for different callers with the same key, and for different keys', () => {
    expect(idempotentRequestId('bob', 'retry-key-0001')).not.toBe(idempotentRequestId('alice', 'retry-key-0001'));
    expect(idempotentRequestId('alice', 'retry-key-0002')).not.toBe(idempotentRequestId('alice', 'retry-key-0001'));
  });
});
