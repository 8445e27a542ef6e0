import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** An inclusive range of TCP ports. */
export interface PortRange {
  low: number;
  high: number;
}

const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';

/**
 * Used where the kernel's setting cannot be read (macOS, Windows, a container without /proc): it covers
 * both Linux's default (32768–60999) and the IANA range that BSD, macOS and Windows use (49152–65535).
 */
export const FALLBACK_EPHEMERAL_RANGE: PortRange = { low: 32768, high: 65535 };

/** Below this live the well-known ports of services a developer may run (7233 Temporal, 8080, 5432…). */
export const LOWEST_SERVER_PORT = 10_000;
const HIGHEST_PORT = 65_535;

/** How many random candidates to try before giving up: thousands are free on any sane machine. */
const MAX_CANDIDATES = 200;

/**
 * The range from which the kernel takes source ports for outgoing connections and ports for
 * `listen(0)`. A server whose port lies in it can find the port taken by one of those when it
 * (re)starts, so servers started here listen outside it.
 */
export function ephemeralPortRange(
  read: () => string = () => fs.readFileSync(EPHEMERAL_RANGE_FILE, 'utf8'),
): PortRange {
  try {
    const [low, high] = read().trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low > 0 && low <= high && high <= HIGHEST_PORT) {
      return { low, high };
    }
  } catch {
    // not Linux, or /proc is not mounted
  }
  return FALLBACK_EPHEMERAL_RANGE;
}

/** Where a server may listen: from LOWEST_SERVER_PORT up, below and above the ephemeral range. */
export function serverPortRanges(ephemeral: PortRange = ephemeralPortRange()): PortRange[] {
  const ranges = [
    { low: LOWEST_SERVER_PORT, high: ephemeral.low - 1 },
    { low: Math.max(LOWEST_SERVER_PORT, ephemeral.high + 1), high: HIGHEST_PORT },
  ];
  return ranges.filter((range) => range.low <= range.high);
}

/** Whether a port and the ports derived from it (port + offset) all lie in the given ranges. */
export function fitsRanges(port: number, derivedOffsets: readonly number[], ranges: readonly PortRange[]): boolean {
  return [port, ...derivedOffsets.map((offset) => port + offset)].every((candidate) =>
    ranges.some((range) => candidate >= range.low && candidate <= range.high),
  );
}

/** Whether something can listen on host:port right now (as the Temporal CLI checks it: listen, close). */
export function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port }, () => server.close(() => resolve(true)));
  });
}

/**
 * Ports handed out but perhaps not listened on yet, shared by every latchkey process on the machine
 * (parallel test workers, a bench run beside a test run): one file per port holding the owner's pid,
 * created exclusively. A file whose owner is gone no longer counts.
 */
export class PortReservations {
  private readonly held = new Set<number>();
  private releasesOnExit = false;
  private swept = false;

  constructor(readonly dir: string = path.join(os.tmpdir(), 'latchkey-ports')) {}

  /**
   * Takes the port for this process until it exits (a server restarted on it keeps it through the
   * restart); false when a live process already holds it, this one included.
   */
  reserve(port: number): boolean {
    fs.mkdirSync(this.dir, { recursive: true });
    this.sweepOnce();
    const file = this.fileOf(port);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
        this.hold(port);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (!this.ownerIsGone(file)) return false;
        fs.rmSync(file, { force: true });
      }
    }
    return false;
  }

  release(port: number): void {
    const file = this.fileOf(port);
    if (this.ownerOf(file) === process.pid) fs.rmSync(file, { force: true });
    this.held.delete(port);
  }

  /** Held ports are given back when the process exits normally; a crash leaves files that no longer count. */
  private hold(port: number): void {
    if (!this.releasesOnExit) process.once('exit', () => this.releaseAll());
    this.releasesOnExit = true;
    this.held.add(port);
  }

  private releaseAll(): void {
    for (const port of [...this.held]) this.release(port);
  }

  /** Removes files whose owner ended without releasing them (jest kills its workers): once per process. */
  private sweepOnce(): void {
    if (this.swept) return;
    this.swept = true;
    for (const name of fs.readdirSync(this.dir)) {
      const file = path.join(this.dir, name);
      if (this.ownerIsGone(file)) fs.rmSync(file, { force: true });
    }
  }

  private fileOf(port: number): string {
    return path.join(this.dir, String(port));
  }

  private ownerOf(file: string): number | undefined {
    try {
      const pid = Number(fs.readFileSync(file, 'utf8'));
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  private ownerIsGone(file: string): boolean {
    const pid = this.ownerOf(file);
    // A file without a pid yet is being written by its owner: leave it alone.
    if (pid === undefined) return !fs.existsSync(file);
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
}

export interface ChoosePortOptions {
  host?: string;
  /** Ports the server will also listen on, as offsets from the chosen one (the dev server's UI: +1000). */
  derivedOffsets?: readonly number[];
  /** Ports not to hand out (a port that just failed). */
  avoid?: readonly number[];
  ranges?: readonly PortRange[];
  reservations?: PortReservations;
  random?: () => number;
  isFree?: PortCheck;
}

export type PortCheck = (host: string, port: number) => Promise<boolean>;

/**
 * A free loopback port for a server started by latchkey's tooling (tests, bench, chaos): outside the
 * kernel's ephemeral range, so that no client's source port or `listen(0)` can take it while the server
 * is down; free together with the ports derived from it; and reserved against other latchkey processes.
 */
export async function chooseServerPort(options: ChoosePortOptions = {}): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const derived = options.derivedOffsets ?? [];
  const ranges = options.ranges ?? serverPortRanges();
  const reservations = options.reservations ?? defaultReservations;
  const random = options.random ?? Math.random;
  const isFree = options.isFree ?? canListen;
  for (let attempt = 0; attempt < MAX_CANDIDATES; attempt++) {
    const port = randomPortIn(ranges, random);
    if (options.avoid?.includes(port) || !fitsRanges(port, derived, ranges)) continue;
    if (!(await allFree(isFree, host, [port, ...derived.map((offset) => port + offset)]))) continue;
    if (reservations.reserve(port)) return port;
  }
  throw new Error(
    `no free port for a server on ${host} in ${ranges.map((r) => `${r.low}-${r.high}`).join(', ')} ` +
      `(outside the ephemeral range) after ${MAX_CANDIDATES} tries`,
  );
}

/** Several distinct server ports at once (an API, a dev server, a metrics endpoint). */
export async function chooseServerPorts(count: number, options: ChoosePortOptions = {}): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    ports.push(await chooseServerPort({ ...options, avoid: [...(options.avoid ?? []), ...ports] }));
  }
  return ports;
}

/** Gives a chosen port back before the process exits (one that turned out to be taken). */
export function releaseServerPort(port: number, reservations: PortReservations = defaultReservations): void {
  reservations.release(port);
}

const defaultReservations = new PortReservations();

function randomPortIn(ranges: readonly PortRange[], random: () => number): number {
  const size = ranges.reduce((total, range) => total + range.high - range.low + 1, 0);
  let index = Math.floor(random() * size);
  for (const range of ranges) {
    const length = range.high - range.low + 1;
    if (index < length) return range.low + index;
    index -= length;
  }
  return ranges[ranges.length - 1].high;
}

async function allFree(isFree: PortCheck, host: string, ports: number[]): Promise<boolean> {
  for (const port of ports) if (!(await isFree(host, port))) return false;
  return true;
}
