import { transformFile } from '@swc/core';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { LocalOnePassword } from './local-onepassword';
import type { LocalState } from './state';
import { loadDevelopmentSettings } from '../../config/development';

const run = promisify(execFile);

const REPO = path.join(__dirname, '..', '..');

/** The local 1Password and what it imports, compiled so plain `node` child processes can load it. */
const SOURCES = [
  'onepassword/port.ts',
  'onepassword/file-lock.ts',
  'domain/vault-permissions.ts',
  'onepassword/share-rules.ts',
  'onepassword/local/state.ts',
  'onepassword/local/local-onepassword.ts',
  'domain/share-links.ts',
  'domain/decision.ts',
  'contracts/messages.ts',
];

const CHILD = `
const { LocalOnePassword } = require(process.argv[1]);
const [stateFile, name, count, oneViewUrl] = process.argv.slice(2);
const sut = new LocalOnePassword({ stateFile });
const share = (reference) => sut.createShareLink({
  vaultId: 'vlt_prod', itemId: 'itm_prod_db', recipients: ['alice@example.com'],
  expiry: '1d', oneTimeOnly: true, reference,
});
(async () => {
  const viewed = await sut.viewShareLink(oneViewUrl, 'alice@example.com').then(() => 'viewed', () => 'refused');
  for (let n = 0; n < Number(count); n++) await share(name + ':' + n);
  process.stdout.write(viewed);
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe('LocalOnePassword shared by several processes', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'latchkey-local-1password-processes-'));
    for (const source of SOURCES) {
      const { code } = await transformFile(path.join(REPO, source), {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      });
      const target = path.join(dir, 'build', source.replace(/\.ts$/, '.js'));
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, code);
    }
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('loses no write, and lets one process only spend a one-view link, when processes write at once', async () => {
    const stateFile = path.join(dir, 'state.json');
    const module = path.join(dir, 'build', 'onepassword', 'local', 'local-onepassword.js');
    const oneView = await new LocalOnePassword({ stateFile }).createShareLink({
      vaultId: 'vlt_prod',
      itemId: 'itm_prod_db',
      recipients: ['alice@example.com'],
      expiry: '1d',
      oneTimeOnly: true,
      reference: 'one-view',
    });
    const processes = ['worker', 'api', 'cli', 'chaos'];
    const perProcess = 8;

    const outputs = await Promise.all(
      processes.map((name) =>
        run(process.execPath, ['-e', CHILD, module, stateFile, name, String(perProcess), oneView.url], {
          // The compiled copy lives outside the repository; its packages are the repository's.
          env: { ...loadDevelopmentSettings().childEnv, NODE_PATH: path.join(REPO, 'node_modules') },
        }),
      ),
    );

    const state = JSON.parse(await readFile(stateFile, 'utf8')) as LocalState;
    expect(outputs.map((output) => output.stdout).sort()).toEqual(['refused', 'refused', 'refused', 'viewed']);
    expect(state.counters.shareViews).toBe(1);
    expect(state.shareLinks).toHaveLength(processes.length * perProcess + 1);
    expect(state.counters.writes.createShareLink).toBe(processes.length * perProcess + 1);
  });
});
