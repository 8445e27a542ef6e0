import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  canListen,
  chooseServerPort,
  chooseServerPorts,
  ephemeralPortRange,
  FALLBACK_EPHEMERAL_RANGE,
  fitsRanges,
  LOWEST_SERVER_PORT,
  PortReservations,
  serverPortRanges,
} from './ports';

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempReservations(): PortReservations {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-ports-spec-'));
  tempDirs.push(dir);
  return new PortReservations(dir);
}

/** A random source that yields the given fractions in turn, then repeats the last one. */
function sequence(...fractions: number[]): () => number {
  let i = 0;
  return () => fractions[Math.min(i++, fractions.length - 1)];
}

/** The pid of a process that has exited: a reservation it held no longer counts. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  if (!pid) throw new Error('could not spawn');
  return pid;
}

describe(ephemeralPortRange.name, () => {
  it("reads the kernel's setting", () => {
    expect(ephemeralPortRange(() => '32768\t60999\n')).toEqual({ low: 32768, high: 60999 });
  });

  it('falls back to a range that covers Linux and BSD/macOS/Windows defaults where /proc cannot be read', () => {
    const sut = ephemeralPortRange(() => {
      throw new Error('ENOENT');
    });
    expect(sut).toEqual(FALLBACK_EPHEMERAL_RANGE);
    expect(sut.low).toBeLessThanOrEqual(32768);
    expect(sut.high).toBe(65535);
  });

  it('falls back when the setting is not two ports', () => {
    expect(ephemeralPortRange(() => 'nonsense')).toEqual(FALLBACK_EPHEMERAL_RANGE);
    expect(ephemeralPortRange(() => '60999 32768')).toEqual(FALLBACK_EPHEMERAL_RANGE);
  });
});

describe(serverPortRanges.name, () => {
  it('takes the ports below and above the ephemeral range', () => {
    expect(serverPortRanges({ low: 32768, high: 60999 })).toEqual([
      { low: LOWEST_SERVER_PORT, high: 32767 },
      { low: 61000, high: 65535 },
    ]);
  });

  it('has nothing above a range that reaches 65535', () => {
    expect(serverPortRanges({ low: 49152, high: 65535 })).toEqual([{ low: LOWEST_SERVER_PORT, high: 49151 }]);
  });
});

describe(fitsRanges.name, () => {
  const ranges = [{ low: 10000, high: 32767 }];

  it('accepts a port whose derived ports fit too', () => {
    expect(fitsRanges(20000, [1000], ranges)).toBe(true);
  });

  it("refuses a port whose derived port (the UI's +1000) would land in the ephemeral range", () => {
    expect(fitsRanges(32000, [1000], ranges)).toBe(false);
  });
});

describe(canListen.name, () => {
  it('says no while something listens on the port, and yes once it is gone', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    expect(await canListen('127.0.0.1', port)).toBe(false);
    await new Promise((resolve) => server.close(resolve));
    expect(await canListen('127.0.0.1', port)).toBe(true);
  });
});

describe(chooseServerPort.name, () => {
  it('chooses a port outside the ephemeral range on this machine', async () => {
    const ephemeral = ephemeralPortRange();
    const sut = await chooseServerPort({ reservations: tempReservations() });
    expect(sut).toBeGreaterThanOrEqual(LOWEST_SERVER_PORT);
    expect(sut >= ephemeral.low && sut <= ephemeral.high).toBe(false);
  });

  it('skips a port whose derived port is taken', async () => {
    const taken = new Set([21000]);
    const sut = await chooseServerPort({
      derivedOffsets: [1000],
      ranges: [{ low: 20000, high: 29999 }],
      random: sequence(0, 0.5),
      isFree: (_host, port) => Promise.resolve(!taken.has(port)),
      reservations: tempReservations(),
    });
    expect(sut).toBe(25000);
  });

  it('skips a port another live process has reserved, and takes one whose owner is gone', async () => {
    const reservations = tempReservations();
    fs.writeFileSync(path.join(reservations.dir, '20000'), String(process.ppid));
    fs.writeFileSync(path.join(reservations.dir, '20001'), String(deadPid()));
    const sut = await chooseServerPort({
      ranges: [{ low: 20000, high: 20001 }],
      random: sequence(0, 0.9),
      isFree: () => Promise.resolve(true),
      reservations,
    });
    expect(sut).toBe(20001);
    expect(fs.readFileSync(path.join(reservations.dir, '20001'), 'utf8')).toBe(String(process.pid));
  });

  it('never hands the same port out twice', async () => {
    const sut = await chooseServerPorts(3, {
      ranges: [{ low: 20000, high: 20002 }],
      random: sequence(0, 0, 0.4, 0.4, 0.9),
      isFree: () => Promise.resolve(true),
      reservations: tempReservations(),
    });
    expect(sut.sort()).toEqual([20000, 20001, 20002]);
  });

  it('says which range it searched when nothing there is free', async () => {
    const sut = chooseServerPort({
      ranges: [{ low: 20000, high: 20009 }],
      isFree: () => Promise.resolve(false),
      reservations: tempReservations(),
    });
    await expect(sut).rejects.toThrow(/no free port .* 20000-20009 \(outside the ephemeral range\)/);
  });
});

describe(PortReservations.name, () => {
  it('clears the files of owners that are gone when it is first used, and keeps the others', () => {
    const sut = tempReservations();
    fs.writeFileSync(path.join(sut.dir, '20000'), String(deadPid()));
    fs.writeFileSync(path.join(sut.dir, '20001'), String(process.ppid));
    sut.reserve(20002);
    expect(fs.readdirSync(sut.dir).sort()).toEqual(['20001', '20002']);
  });

  it('gives a released port out again', () => {
    const sut = tempReservations();
    expect(sut.reserve(20000)).toBe(true);
    expect(sut.reserve(20000)).toBe(false);
    sut.release(20000);
    expect(sut.reserve(20000)).toBe(true);
  });
});
