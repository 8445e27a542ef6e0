import { Connection, type ConnectionLike, type ConnectionPlugin, type Metadata } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { TemporalConnectionOptions } from '../../../config/temporal-connection';

/** Between two attempts to open the native connection while Temporal does not answer. */
const RECONNECT_EVERY_MS = 1_000;

/**
 * The API's connection to Temporal. Calls go through the SDK's native connection (Rust), which costs about half
 * the CPU of grpc-js per call (docs/benchmarks.md), and nearly every request of the API is one such call. The
 * native connection can only be opened against a server that answers, while the API must start, answer
 * `/healthz` and say "not ready" without one: until it is open, calls go through a lazy grpc-js connection,
 * which fails them as Temporal's absence deserves, and it is opened in the background meanwhile.
 */
export class TemporalConnection implements ConnectionLike {
  private native?: NativeConnection;
  private readonly fallback: Connection;
  private closed = false;

  constructor(
    private readonly options: TemporalConnectionOptions,
    private readonly logger: Pick<Logger, 'info' | 'warn'>,
  ) {
    this.fallback = Connection.lazy(options);
    void this.openNative();
  }

  /** Where calls go now; a call in a `with…` scope stays on the connection that scope was opened on. */
  private get current(): ConnectionLike {
    return this.native ?? this.fallback;
  }

  get workflowService() {
    return this.current.workflowService;
  }

  get operatorService() {
    return this.current.operatorService;
  }

  get plugins(): ConnectionPlugin[] {
    return this.current.plugins;
  }

  /** Whether calls go through the native connection yet. */
  get isNative(): boolean {
    return this.native !== undefined;
  }

  ensureConnected(): Promise<void> {
    return this.current.ensureConnected();
  }

  withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R> {
    return this.current.withDeadline(deadline, fn);
  }

  withMetadata<R>(metadata: Metadata, fn: () => Promise<R>): Promise<R> {
    return this.current.withMetadata(metadata, fn);
  }

  withAbortSignal<R>(abortSignal: AbortSignal, fn: () => Promise<R>): Promise<R> {
    return this.current.withAbortSignal(abortSignal, fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.native?.close(), this.fallback.close()]);
  }

  private async openNative(): Promise<void> {
    let told = false;
    while (!this.closed) {
      try {
        const native = await NativeConnection.connect(this.options);
        // Closed while it was opening: nobody will close it later.
        if (this.closed) return await native.close();
        this.native = native;
        this.logger.info('connected to Temporal');
        return;
      } catch (error) {
        if (!told)
          this.logger.warn({ error: String(error) }, 'Temporal does not answer yet; trying again every second');
        told = true;
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_EVERY_MS).unref());
      }
    }
  }
}
