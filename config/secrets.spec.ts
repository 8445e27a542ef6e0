import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSecret } from './secrets';

describe('readSecret', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-secrets-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads a token from the named environment variable, trimmed', () => {
    expect(readSecret({ env: 'OP_TOKEN' }, { OP_TOKEN: ' ops_abc \n' })).toBe('ops_abc');
  });

  it('reads a token from a file, trimmed', () => {
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'ops_from_file\n');
    expect(readSecret({ file })).toBe('ops_from_file');
  });

  it('names the missing source and never a value', () => {
    expect(() => readSecret({ env: 'MISSING_TOKEN' }, {})).toThrow('environment variable MISSING_TOKEN is not set');
    expect(() => readSecret({ file: path.join(dir, 'nope') })).toThrow(/cannot read .*nope: ENOENT/);
    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '  \n');
    expect(() => readSecret({ file: empty })).toThrow('is empty');
  });
});
