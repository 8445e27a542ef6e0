import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DevServerStartError,
  LOG_TAIL_LINES,
  logLinesFrom,
  portConflictLine,
  startDevServer,
  startFailureMessage,
} from './dev-server';
import { chooseServerPort } from './ports';

interface Fake {
  cli: { kind: 'existing'; path: string };
  dir: string;
  runs(): number;
}

/** What the stand-in writes before it exits 1 on a failing run. */
type FailureOutput = 'lines' | 'port-check' | 'panic-after-bind';

/**
 * A stand-in for `temporal server start-dev`: it counts its runs in a file, and on the runs listed in
 * `fail` it writes 30 lines and then what the real CLI writes when a port is taken (its own port check,
 * or a service's failed bind followed by a panic and its long stack), and exits; otherwise it listens
 * on --port until it is stopped.
 */
const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

function fakeCli({ fail, output }: { fail: number[]; output: FailureOutput }): Fake {
  const dir = tempDir('latchkey-fake-cli-');
  const runsFile = path.join(dir, 'runs');
  const script = `#!${process.execPath}
const fs = require('node:fs');
const net = require('node:net');
const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const runs = Number(fs.existsSync(${JSON.stringify(runsFile)}) ? fs.readFileSync(${JSON.stringify(runsFile)}, 'utf8') : 0) + 1;
fs.writeFileSync(${JSON.stringify(runsFile)}, String(runs));
if (${JSON.stringify(fail)}.includes(runs)) {
  for (let i = 1; i <= 30; i++) console.log('starting, line ' + i);
  const output = ${JSON.stringify(output)};
  if (output === 'port-check') {
    console.error("Error: can't set frontend port " + port + ': listen tcp 127.0.0.1:' + port + ': bind: address already in use');
  }
  if (output === 'panic-after-bind') {
    console.log('time=x level=ERROR msg="Failed to start gRPC listener" error="listen tcp 127.0.0.1:' + port + ': bind: address already in use"');
    console.error('panic: runtime error: invalid memory address or nil pointer dereference');
    for (let i = 1; i <= 25; i++) console.error('\\tgoroutine frame ' + i);
  }
  process.exit(output === 'panic-after-bind' ? 2 : 1);
}
net.createServer().listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;
  const file = path.join(dir, 'temporal');
  fs.writeFileSync(file, script, { mode: 0o755 });
  return { cli: { kind: 'existing', path: file }, dir, runs: () => Number(fs.readFileSync(runsFile, 'utf8')) };
}

describe(startDevServer.name, () => {
  const logs: string[] = [];
  const log = (message: string) => logs.push(message);
  beforeEach(() => logs.splice(0));

  it("fails with the last lines of the server's log in its message, which outlives the log file", async () => {
    const fake = fakeCli({ fail: [1], output: 'lines' });
    const logFile = path.join(fake.dir, 'temporal.log');
    fs.writeFileSync(logFile, 'a line from an earlier start\n');

    const sut = startDevServer(fake.cli, { port: await chooseServerPort(), logFile, log });

    const error = await sut.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DevServerStartError);
    const message = (error as Error).message;
    expect(message).toContain('the process exited (code 1)');
    expect(message).toContain(`last ${LOG_TAIL_LINES} lines of ${logFile}`);
    expect(message).toContain('  | starting, line 30');
    expect(message).toContain('  | starting, line 11');
    expect(message).not.toContain('line 10\n');
    expect(message).not.toContain('an earlier start');
    expect(fake.runs()).toBe(1);
  });

  it('retries a start that met a port conflict on the same port when the port was given, and says so', async () => {
    const fake = fakeCli({ fail: [1, 2], output: 'port-check' });
    const port = await chooseServerPort();

    const sut = await startDevServer(fake.cli, { port, logFile: path.join(fake.dir, 'temporal.log'), log });

    expect(sut.port).toBe(port);
    expect(fake.runs()).toBe(3);
    expect(logs).toEqual([
      expect.stringMatching(
        new RegExp(`^port conflict on 127.0.0.1:${port}, retrying on the same port \\(.*in use\\); attempt 2 of 5$`),
      ),
      expect.stringMatching(/retrying on the same port .*; attempt 3 of 5$/),
    ]);
    await sut.stop();
  });

  it('starts on another port when the port it chose itself was taken', async () => {
    const fake = fakeCli({ fail: [1], output: 'port-check' });

    const sut = await startDevServer(fake.cli, { logFile: path.join(fake.dir, 'temporal.log'), log });

    const [message] = logs;
    expect(message).toMatch(/^port conflict on 127\.0\.0\.1:\d+, starting on port \d+ instead \(.*\); attempt 2 of 5$/);
    const [, taken, next] = /:(\d+), starting on port (\d+)/.exec(message) ?? [];
    expect(Number(next)).toBe(sut.port);
    expect(Number(taken)).not.toBe(sut.port);
    await sut.stop();
  });

  it("finds a service's failed bind above a panic's stack, and retries it", async () => {
    const fake = fakeCli({ fail: [1], output: 'panic-after-bind' });
    const port = await chooseServerPort();

    const sut = await startDevServer(fake.cli, { port, logFile: path.join(fake.dir, 'temporal.log'), log });

    expect(sut.port).toBe(port);
    expect(logs).toEqual([expect.stringContaining(`listen tcp 127.0.0.1:${port}: bind: address already in use`)]);
    await sut.stop();
  });

  it('gives up after the allowed attempts, with the conflict in the message', async () => {
    const fake = fakeCli({ fail: [1, 2], output: 'port-check' });

    const logFile = path.join(fake.dir, 'temporal.log');
    const sut = startDevServer(fake.cli, { port: await chooseServerPort(), logFile, startAttempts: 2, log });

    await expect(sut).rejects.toThrow(/bind: address already in use/);
    expect(fake.runs()).toBe(2);
  });
});

describe(portConflictLine.name, () => {
  it("finds the CLI's own port check and a service's failed bind", () => {
    expect(portConflictLine(['ok', "Error: can't set frontend port 7233: listen tcp: bind: x"])).toMatch(/frontend/);
    expect(portConflictLine(["can't use default UI port 8233 (7233 + 1000): in use"])).toMatch(/UI port/);
    expect(portConflictLine(['listen tcp 127.0.0.1:40001: bind: address already in use'])).toMatch(/40001/);
  });

  it('finds nothing in a failure that is not about a port', () => {
    expect(portConflictLine(['Error: failed starting server: unable to open database file'])).toBeUndefined();
  });
});

describe(startFailureMessage.name, () => {
  it("names the first error when the last lines are only a panic's stack", () => {
    const stack = Array.from({ length: 30 }, (_, i) => `\tframe ${i}`);
    const sut = startFailureMessage('127.0.0.1:7233', 'the process exited (code 2)', '/tmp/t.log', [
      'CLI 1.5.1',
      'panic: runtime error: invalid memory address',
      ...stack,
    ]);
    expect(sut).toContain('the process exited (code 2); first error: panic: runtime error: invalid memory address;');
    expect(sut).toContain(`last ${LOG_TAIL_LINES} lines of /tmp/t.log:`);
    expect(sut).toContain('  | \tframe 29');
    expect(sut).not.toContain('frame 9\n');
  });

  it('says the log is empty when the server wrote nothing', () => {
    expect(startFailureMessage('127.0.0.1:7233', 'it could not be run', '/tmp/t.log', [])).toMatch(/t\.log is empty$/);
  });
});

describe(logLinesFrom.name, () => {
  it("reads only this start's lines, from the offset where they begin", () => {
    const file = path.join(tempDir('latchkey-log-'), 'temporal.log');
    fs.writeFileSync(file, 'old\n');
    const from = fs.statSync(file).size;
    fs.appendFileSync(file, 'new 1\n\nnew 2\n');
    expect(logLinesFrom(file, from)).toEqual(['new 1', 'new 2']);
  });

  it('is empty for a log that does not exist', () => {
    expect(logLinesFrom('/nonexistent/temporal.log')).toEqual([]);
  });
});
