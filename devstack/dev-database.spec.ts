import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkDevDatabase, DevDatabaseMismatch } from './dev-database';

describe(checkDevDatabase.name, () => {
  let dir: string;
  let db: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-devdb-'));
    db = path.join(dir, 'temporal.db');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cli191 = { cli: '1.9.1', server: '1.32.0' };
  const cli151 = { cli: '1.5.1', server: '1.28.1' };

  it('records the server of a new database, and accepts it under the same server later', () => {
    checkDevDatabase(db, cli191);
    fs.writeFileSync(db, 'SQLite format 3\0');
    expect(fs.readFileSync(`${db}.server-version`, 'utf8')).toBe('1.32.0\n');
    expect(() => checkDevDatabase(db, cli191)).not.toThrow();
  });

  it('refuses a database another server made, saying how to go on', () => {
    fs.writeFileSync(db, 'SQLite format 3\0');
    fs.writeFileSync(`${db}.server-version`, '1.28.1\n');
    expect(() => checkDevDatabase(db, cli191)).toThrow(DevDatabaseMismatch);
    expect(() => checkDevDatabase(db, cli191)).toThrow(
      `${db} was made by Temporal server 1.28.1, and the Temporal CLI 1.9.1 (server 1.32.0) cannot use it`,
    );
  });

  it('tells the generation of a database made before markers from its schema', () => {
    fs.writeFileSync(db, 'SQLite format 3\0CREATE TABLE current_executions (shard_id INTEGER)');
    expect(() => checkDevDatabase(db, cli191)).toThrow(/made by Temporal server older than 1\.32\.0/);
    // The same file under the server that made it (the go install fallback) is fine, and gets its marker.
    expect(() => checkDevDatabase(db, cli151)).not.toThrow();
    expect(fs.readFileSync(`${db}.server-version`, 'utf8')).toBe('1.28.1\n');

    const newer = path.join(dir, 'newer.db');
    fs.writeFileSync(newer, 'SQLite format 3\0CREATE TABLE current_chasm_executions (shard_id INTEGER)');
    expect(() => checkDevDatabase(newer, cli191)).not.toThrow();
    expect(() => checkDevDatabase(newer, cli151)).toThrow(/made by Temporal server 1\.32\.0/);
  });
});
