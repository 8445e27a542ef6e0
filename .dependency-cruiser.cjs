// @ts-check
/**
 * The architecture, checked by `npm run lint`: each folder and the folders its code may import.
 * The table is a strict layering (every folder imports only folders above it in the table), so no
 * cycle between folders can appear without breaking a rule; a cycle between modules is refused too.
 * docs/architecture.md draws the same table. Tests (`*.spec.ts`) and test support may import anything.
 */
const MAY_IMPORT = {
  contracts: [],
  // The browser's app: packages and its own generated API types only; it reaches the server over HTTP.
  portal: [],
  config: ['contracts', 'domain'],
  codec: [],
  // Signed commands: the format, the signature check (pure, the workflow sandbox runs it) and the signer.
  trust: ['contracts'],
  domain: ['contracts'],
  notify: ['contracts', 'domain'],
  audit: ['contracts', 'codec', 'trust'],
  policy: ['contracts', 'domain', 'config'],
  onepassword: ['contracts', 'domain', 'config'],
  // The systems behind the secrets (PostgreSQL, a command): packages only, for now.
  targets: [],
  activities: ['contracts', 'domain', 'codec', 'trust', 'onepassword', 'notify', 'targets'],
  // Activities as types only (proxyActivities); eslint and the rule below both say so.
  workflows: ['contracts', 'domain', 'trust', 'activities'],
  // The production-shaped cluster makes the workers' shared rate ledger as a deployment does (onepassword/sdk).
  devstack: ['contracts', 'config', 'onepassword'],
  'apps/worker': [
    'contracts',
    'domain',
    'config',
    'codec',
    'trust',
    'policy',
    'notify',
    'onepassword',
    'targets',
    'activities',
    'workflows',
  ],
  'apps/api': ['contracts', 'domain', 'config', 'codec', 'trust', 'policy', 'audit', 'workflows'],
  'apps/cli': [
    'contracts',
    'domain',
    'config',
    'codec',
    'trust',
    'policy',
    'audit',
    'onepassword',
    'workflows',
    'apps/api',
    // The worker's 1Password ports and its start check, for `latchkey onepassword check`.
    'apps/worker',
  ],
  // The dev runner seeds the demo database with the local 1Password's demo item, and starts the worker's process
  // with the environment it asks for (apps/worker/process-env.ts).
  'apps/dev': ['contracts', 'domain', 'config', 'codec', 'trust', 'devstack', 'onepassword', 'apps/api', 'apps/worker'],
};
const FOLDERS = [...Object.keys(MAY_IMPORT), 'bench', 'test'];
const folderPattern = (folders) => `^(${folders.map((folder) => folder.replace('/', '\\/')).join('|')})/`;
const TESTS = '\\.spec\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...Object.entries(MAY_IMPORT).map(([folder, allowed]) => ({
      name: `${folder}-imports`,
      comment: `${folder}/ may import only ${allowed.length > 0 ? allowed.join(', ') : 'packages'} (see .dependency-cruiser.cjs)`,
      severity: 'error',
      from: { path: folderPattern([folder]), pathNot: TESTS },
      to: { path: folderPattern(FOLDERS), pathNot: folderPattern([folder, ...allowed]) },
    })),
    {
      name: 'workflows-use-activity-types-only',
      comment:
        'workflow code runs in a sandbox: it calls activities through proxyActivities, importing only their types',
      severity: 'error',
      from: { path: '^workflows/', pathNot: TESTS },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'benchmarks-not-test-support',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment: 'a module cycle makes load order matter and hides which part depends on which',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|data)/|__fixtures__' },
  },
};
