// The live 1Password contract (onepassword/sdk/sdk-adapter.live.spec.ts): matched by no test tier, run
// only by `npx jest --config test/jest.live.config.js` with a real account in the environment.
const path = require('node:path');
const unit = require('../jest.config.js').projects.find((project) => project.displayName === 'unit');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: path.join(__dirname, '..'),
  displayName: 'live-1password',
  transform: unit.transform,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/**/*.live.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 120_000,
  // One account, one token: run serially to stay well inside its rate limits.
  maxWorkers: 1,
};
