import { DatabaseError } from 'pg';
import { TargetError } from '../port';
import { isLoginRefused, redact, toTargetError } from './errors';

function serverError(code: string, message = 'the server said no'): DatabaseError {
  const error = new DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
}

describe(toTargetError.name, () => {
  it.each([
    ['08006', 'unavailable'],
    ['53300', 'unavailable'],
    ['57P01', 'unavailable'],
    ['57014', 'unavailable'],
    ['28P01', 'auth'],
    ['28000', 'auth'],
    ['42704', 'not-found'],
    ['42501', 'refused'],
    ['2BP01', 'refused'],
    ['22023', 'invalid-argument'],
    ['XX000', 'refused'],
  ])('maps SQLSTATE %s to %s', (code, kind) => {
    expect(toTargetError(serverError(code), 'drop login "lk_a" on PostgreSQL h:5432/db')).toMatchObject({ kind });
  });

  it.each(['ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'ENOTFOUND'])('maps %s to unavailable', (code) => {
    expect(toTargetError(socketError(code), 'x')).toMatchObject({ kind: 'unavailable' });
  });

  it('maps the driver’s own timeouts and cut connections to unavailable', () => {
    for (const message of ['Connection terminated due to connection timeout', 'Connection terminated unexpectedly']) {
      expect(toTargetError(new Error(message), 'x')).toMatchObject({ kind: 'unavailable' });
    }
  });

  it('says what was done where, with the server’s words and SQLSTATE, and never a secret it quoted', () => {
    const sut = toTargetError(
      serverError('42601', 'syntax error at or near "SCRAM-SHA-256$4096:abc"'),
      'set the password of role "reporting" on PostgreSQL h:5432/db',
      ['SCRAM-SHA-256$4096:abc'],
    );
    expect(sut.message).toBe(
      'set the password of role "reporting" on PostgreSQL h:5432/db: syntax error at or near "[redacted]" (SQLSTATE 42601)',
    );
  });

  it('passes a TargetError through', () => {
    const error = new TargetError('not-found', 'no role');
    expect(toTargetError(error, 'x')).toBe(error);
  });
});

describe(redact.name, () => {
  it('replaces every occurrence and ignores empty secrets', () => {
    expect(redact('a s3 b s3', ['s3', ''])).toBe('a [redacted] b [redacted]');
  });
});

describe(isLoginRefused.name, () => {
  it('is true for a refused password or login, false for anything else', () => {
    expect(isLoginRefused(serverError('28P01'))).toBe(true);
    expect(isLoginRefused(serverError('28000'))).toBe(true);
    expect(isLoginRefused(serverError('57P03'))).toBe(false);
    expect(isLoginRefused(socketError('ECONNREFUSED'))).toBe(false);
  });
});
