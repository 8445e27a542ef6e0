import { DefaultLogger, Runtime } from '@temporalio/worker';

// Integration tests start servers and workers and wait on real workflows: give each test two minutes.
jest.setTimeout(120_000);

// Workers log at WARN in tests, so that failures stand out from bundler and state-change chatter.
Runtime.install({ logger: new DefaultLogger('WARN') });
