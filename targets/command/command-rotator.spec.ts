import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TargetError } from '../port';
import { CommandRotator } from './command-rotator';

const SECRET = 'n3w-S3cret-value';

describe(CommandRotator.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-command-rotator-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A shell script in the temporary directory, run with that directory as its one argument. */
  function rotatorRunning(body: string, timeoutMs?: number): CommandRotator {
    const script = path.join(dir, 'rotate.sh');
    fs.writeFileSync(script, `#!/bin/sh\nout="$1"\n${body}\n`, { mode: 0o755 });
    return new CommandRotator({ command: [script, dir], timeoutMs });
  }
  const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

  it('hands the secret on standard input, and neither in the arguments nor in the environment', async () => {
    const sut = rotatorRunning(
      `IFS= read -r secret\nprintf '%s' "$secret" > "$out/secret"\necho "$0 $*" > "$out/args"\nenv > "$out/env"`,
    );

    await sut.setSecret(SECRET, 'AccessRequest:r1/rotate');

    expect(read('secret')).toBe(SECRET);
    expect(read('args')).not.toContain(SECRET);
    expect(read('env')).not.toContain(SECRET);
    expect(read('env')).toContain('LATCHKEY_ROTATION_REFERENCE=AccessRequest:r1/rotate');
  });

  it('does not pass the worker’s own environment on', async () => {
    const sut = rotatorRunning('env > "$out/env"');
    await sut.setSecret(SECRET, 'r');
    const names = read('env')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('=')[0]);
    // What the shell adds by itself (PWD, SHLVL, _) aside, only what latchkey gave.
    expect(names.filter((name) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(name)).sort()).toEqual([
      'LATCHKEY_ROTATION_REFERENCE',
      'PATH',
    ]);
  });

  it('is refused on a non-zero exit, with the code and stderr in which the secret is blanked out', async () => {
    const sut = rotatorRunning(`IFS= read -r secret\necho "target refused $secret, really: $secret" >&2\nexit 3`);

    const error = await sut.setSecret(SECRET, 'r').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TargetError);
    expect(error).toMatchObject({
      kind: 'refused',
      message: 'rotation command rotate.sh exited with code 3: target refused [redacted], really: [redacted]',
    });
  });

  it('quotes at most 200 characters of stderr, cut after the secret is blanked out', async () => {
    const sut = rotatorRunning(`IFS= read -r secret\nprintf '%0195d%s%0300d' 0 "$secret" 0 >&2\nexit 1`);
    const error = (await sut.setSecret(SECRET, 'r').catch((e: unknown) => e)) as Error;
    const quoted = error.message.replace(/^.*?: /, '');
    expect(quoted).toHaveLength(200);
    expect(quoted).toMatch(/^0{195}\[reda$/);
    expect(error.message).not.toContain(SECRET.slice(0, 5));
  });

  it('kills the command and what it started when it runs too long: unavailable', async () => {
    const sut = rotatorRunning('echo $$ > "$out/pid"\nsleep 30 &\necho $! > "$out/child"\nwait', 1_000);

    const started = Date.now();
    await expect(sut.setSecret(SECRET, 'r')).rejects.toMatchObject({ kind: 'unavailable' });

    expect(Date.now() - started).toBeLessThan(5_000);
    // SIGKILL is delivered asynchronously: the group's processes are gone within moments, not at once.
    expect(await goneWithin(Number(read('pid')), 2_000)).toBe(true);
    expect(await goneWithin(Number(read('child')), 2_000)).toBe(true);
  });

  it('is refused when the program cannot be run', async () => {
    const sut = new CommandRotator({ command: [path.join(dir, 'missing')] });
    await expect(sut.setSecret(SECRET, 'r')).rejects.toMatchObject({ kind: 'refused' });
  });

  it('refuses a secret that is not one line, which the program could not read as one', async () => {
    const sut = rotatorRunning('exit 0');
    await expect(sut.setSecret('two\nlines', 'r')).rejects.toMatchObject({ kind: 'invalid-argument' });
  });

  it('cannot verify: it has no way to log in', async () => {
    await expect(rotatorRunning('exit 0').verify()).resolves.toEqual({ checked: false });
  });
});

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; isRunning(pid);) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Whether a process is alive; a zombie waiting for a parent that does not reap it is not. */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
