// Three tiers, easy to tell apart in the output:
//   unit        *.spec.ts          pure code, no server
//   replay      *.replay.spec.ts   committed workflow histories, no server
//   integration *.int.spec.ts      a real Temporal server (dev server or time-skipping test server)
// A fourth, `*.live.spec.ts`, needs a real 1Password account and runs only by hand (test/jest.live.config.js).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

/**
 * NestJS 12 ships as ECMAScript modules only, with a few ESM-only dependencies; Jest runs CommonJS on
 * Node 20, so those packages are compiled with the same transform as our own code.
 */
const ESM_PACKAGES = [
  '@nestjs',
  'file-type',
  'load-esm',
  'uid',
  'strtok3',
  'token-types',
  '@tokenizer',
  'uint8array-extras',
  // The OpenID provider the identity tests run (a devDependency), with its own jose 6.
  'oidc-provider',
  // The portal's sign-in (apps/api/portal/oidc-sign-in.ts) loads the OpenID client, with its own jose 6.
  'openid-client',
  'oauth4webapi',
  // @fastify/static (the portal's files) sets Content-Disposition with this ESM-only package.
  'content-disposition',
];

const common = {
  transform: { '^.+\\.ts$': swc, [`/node_modules/(${ESM_PACKAGES.join('|')})/.+\\.js$`]: swc },
  // Packages of the list are compiled, and so are those nested inside them (oidc-provider's jose 6).
  transformIgnorePatterns: [`(?<!/(${ESM_PACKAGES.join('|')}))/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/data/'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/**/*.spec.ts'],
      testPathIgnorePatterns: [
        '/node_modules/',
        '/dist/',
        '\\.replay\\.spec\\.ts$',
        '\\.int\\.spec\\.ts$',
        '\\.live\\.spec\\.ts$',
      ],
    },
    {
      ...common,
      displayName: 'replay',
      testMatch: ['<rootDir>/**/*.replay.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
      setupFilesAfterEnv: ['<rootDir>/test/support/quiet-runtime.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/**/*.int.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/integration/setup.ts', '<rootDir>/test/support/quiet-runtime.ts'],
    },
  ],
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
