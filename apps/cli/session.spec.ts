import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSession, removeSession, type Session, SessionError, writeSession } from './session';

const session: Session = {
  apiUrl: 'http://localhost:3000',
  token: 'header.payload.signature',
  expiresAt: '2026-05-01T10:00:00.000Z',
  who: { id: 'alice', email: 'alice@example.com', name: 'Alice' },
  via: 'local',
};

describe('the CLI session file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-session-'));
    file = path.join(dir, 'config', 'latchkey', 'session.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const mode = (target: string) => fs.statSync(target).mode & 0o777;

  it('is written for its owner alone: the file 0600, the folders it makes 0700', () => {
    writeSession(file, session);
    expect(mode(file)).toBe(0o600);
    expect(mode(path.dirname(file))).toBe(0o700);
    expect(mode(path.dirname(path.dirname(file)))).toBe(0o700);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['session.json']);
    expect(readSession(file, new Date('2026-05-01T09:00:00Z'))).toEqual(session);
  });

  it('stays 0600 when it replaces a file someone left readable', () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{}', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    writeSession(file, session);
    expect(mode(file)).toBe(0o600);
  });

  it('says to sign in when there is no session', () => {
    expect(() => readSession(file)).toThrow(new SessionError('not signed in: run latchkey login'));
  });

  it('says when an expired session ended, and to sign in again', () => {
    writeSession(file, session);
    expect(() => readSession(file, new Date('2026-05-01T10:00:00Z'))).toThrow(
      new SessionError('your session as alice ended at 2026-05-01T10:00:00.000Z: run latchkey login'),
    );
  });

  it('refuses a file latchkey did not write', () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"token": 1}');
    expect(() => readSession(file)).toThrow(/is not one latchkey wrote: run latchkey login/);
    fs.writeFileSync(file, 'not json');
    expect(() => readSession(file)).toThrow(SessionError);
  });

  it('is removed by logout, once', () => {
    writeSession(file, session);
    expect(removeSession(file)).toBe(true);
    expect(removeSession(file)).toBe(false);
    expect(fs.existsSync(file)).toBe(false);
  });
});
