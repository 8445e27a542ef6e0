import { Client, Connection } from '@temporalio/client';
// Internal to the SDK but exported: the only way to reach the test service on a connection of our own.
import { type InternalConnectionOptions, InternalConnectionOptionsSymbol } from '@temporalio/client/lib/connection';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import Long from 'long';
import type { NativeConnection } from '@temporalio/worker';
import { msToTs } from '@temporalio/common/lib/time';
import { loadDevelopmentSettings } from '../../config/development';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';
import { chooseServerPort } from '../../devstack/ports';
import type { TestServerSource } from '../../devstack/test-server';

/**
 * Servers for the integration tier, started by `test/integration/global-setup.ts`. Every helper here
 * throws when its server is missing: integration tests fail loudly, they never skip.
 */
export function devServerAddress(): string {
  const address = loadDevelopmentSettings().testServers.devServerAddress;
  if (!address) {
    throw new Error(
      'No Temporal dev server for integration tests: run them through `npm test` or `npx jest --selectProjects integration`.',
    );
  }
  return address;
}

// temporal.api.enums.v1.IndexedValueType
const SEARCH_ATTRIBUTE_TYPES = { Keyword: 2, KeywordList: 7, Datetime: 6 } as const;

/** A namespace of a test's own on the shared dev server, with latchkey's search attributes. */
export async function createDevServerNamespace(connection: Connection, namespace: string): Promise<void> {
  await connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  const searchAttributes: Record<string, number> = {};
  for (const { name, type } of CUSTOM_SEARCH_ATTRIBUTES) searchAttributes[name] = SEARCH_ATTRIBUTE_TYPES[type];
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
}

/** A client of the shared dev server (real persistence, visibility and custom search attributes). */
export async function connectToDevServer(): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: devServerAddress() });
  return { client: new Client({ connection }), connection };
}

/**
 * The client's keepalive as the Java test server (grpc-java's defaults) accepts it: no pings while no call
 * is open, and at most one per five minutes during one. The SDK's default (a ping every 30 s, calls or
 * not) earns three strikes in 90 s without an answer and the server cuts the connection with
 * GOAWAY(too_many_pings); an `UnlockTimeSkippingWithSleep` cut in flight is retried by the client while
 * the server still runs the first one, and the clock jumps further than asked (241 s for 150 s, measured:
 * docs/ci.md). `createTimeSkipping` does not take connection options (temporalio/sdk-typescript#2185),
 * so the file's calls go through a connection of its own.
 */
const TEST_SERVER_KEEPALIVE = {
  'grpc.keepalive_permit_without_calls': 0,
  'grpc.keepalive_time_ms': 6 * 60_000,
};

/** A fresh time-skipping test server (Java, from Maven Central) for tests that jump over hours and days. */
export class TimeSkippingServer {
  readonly namespace = 'default';

  private constructor(
    private readonly env: TestWorkflowEnvironment,
    /** Every call of the test file goes through this connection, never through the SDK's. */
    readonly connection: Connection,
  ) {}

  static async start(): Promise<TimeSkippingServer> {
    const raw = loadDevelopmentSettings().testServers.timeSkippingSource;
    if (!raw) {
      throw new Error(
        'No Temporal test server provisioned: run integration tests through `npm test` or `npx jest --selectProjects integration`.',
      );
    }
    const source = JSON.parse(raw) as TestServerSource;
    const env = await TestWorkflowEnvironment.createTimeSkipping({
      server: {
        // Outside the ephemeral range, like every server the tooling starts (docs/ci.md).
        port: await chooseServerPort(),
        executable:
          source.kind === 'sdk-download' ? { type: 'cached-download' } : { type: 'existing-path', path: source.path },
      },
    });
    const options: InternalConnectionOptions = {
      address: env.address,
      channelArgs: TEST_SERVER_KEEPALIVE,
      [InternalConnectionOptionsSymbol]: { supportsTestService: true },
    };
    const connection = await Connection.connect(options);
    // The SDK's own connection would ping while idle and be cut; nothing uses it.
    await env.connection.close();
    return new TimeSkippingServer(env, connection);
  }

  /** A connection of its own, e.g. for one worker's activities, which that worker's death cuts. */
  connectAgain(): Promise<Connection> {
    return Connection.connect({ address: this.env.address, channelArgs: TEST_SERVER_KEEPALIVE });
  }

  /** For workers: the SDK's native connection (Rust), whose calls are long polls the server answers. */
  get nativeConnection(): NativeConnection {
    return this.env.nativeConnection;
  }

  /** Moves the server's clock forward by `ms`; timers due in between fire. */
  async sleep(ms: number): Promise<void> {
    const seconds = Math.floor(ms / 1000);
    await this.testService().unlockTimeSkippingWithSleep({
      duration: { seconds: Long.fromNumber(seconds), nanos: (ms - seconds * 1000) * 1_000_000 },
    });
  }

  async currentTimeMs(): Promise<number> {
    const { time } = await this.testService().getCurrentTime({});
    if (!time) throw new Error('the time-skipping server gave no time');
    return Long.fromValue(time.seconds ?? 0).toNumber() * 1000 + Math.floor((time.nanos ?? 0) / 1_000_000);
  }

  async teardown(): Promise<void> {
    await this.connection.close();
    await this.env.teardown();
  }

  private testService() {
    if (!this.connection.testService) throw new Error('the time-skipping server has no test service');
    return this.connection.testService;
  }
}
