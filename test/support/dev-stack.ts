import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadOrCreateLocalSigningKey, mintLocalToken } from '../../apps/api/identity/local-signing-key';
import { loadConfig, repoRoot } from '../../config/config';
import { loadDevelopmentSettings } from '../../config/development';
import { chooseServerPorts } from '../../devstack/ports';

/**
 * The compiled `npm start`: the dev runner brings up the Temporal dev server, PostgreSQL, the worker, the API
 * and the mail catcher.
 */
const runner = path.join(repoRoot(), 'dist', 'apps', 'dev', 'main.js');

/**
 * `npm start` as a person runs it, on ports of its own (chosen outside the ephemeral range) and a data
 * directory of its own, so that test files run side by side. Stopped as Ctrl-C in a terminal stops it.
 */
export class DevStack {
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-dev-stack-'));
  readonly output: string[] = [];
  env: NodeJS.ProcessEnv = {};
  apiUrl = '';
  uiUrl = '';
  databasePort = 0;
  /** The mail catcher's web page; its JSON at `${mailUrl}/api/messages` (devstack/mail-catcher.ts). */
  mailUrl = '';
  /** Where the worker sends its mail: the catcher's SMTP port. */
  mailSmtpUrl = '';
  private process?: ChildProcess;

  /** Chooses the ports; `start` may then be called (again, after `stop`). */
  async configure(): Promise<void> {
    const [apiPort, temporalPort, uiPort, metricsPort, databasePort, smtpPort, mailWebPort] =
      await chooseServerPorts(7);
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    this.uiUrl = `http://127.0.0.1:${uiPort}`;
    this.databasePort = databasePort;
    this.mailUrl = `http://127.0.0.1:${mailWebPort}`;
    this.mailSmtpUrl = `smtp://127.0.0.1:${smtpPort}`;
    this.env = {
      ...loadDevelopmentSettings().childEnv,
      LATCHKEY_DATA_DIR: this.dataDir,
      LATCHKEY_API_PORT: String(apiPort),
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      LATCHKEY_TEMPORAL_UI_PORT: String(uiPort),
      LATCHKEY_WORKER_METRICS_PORT: String(metricsPort),
      LATCHKEY_DEMO_DB_PORT: String(databasePort),
      // The catcher runs whatever the environment of the run says about mail.
      LATCHKEY_NOTIFY_SMTP_URL: undefined,
      LATCHKEY_MAIL_CATCHER: undefined,
      LATCHKEY_MAIL_CATCHER_SMTP_PORT: String(smtpPort),
      LATCHKEY_MAIL_CATCHER_WEB_PORT: String(mailWebPort),
    };
  }

  /** Resolves once the runner prints that everything is ready. */
  async start(): Promise<void> {
    if (!fs.existsSync(runner)) throw new Error(`${runner} is missing: run \`npm run build\` (npm test does)`);
    this.output.length = 0;
    // Its own process group, so that stopping it is Ctrl-C in a terminal: SIGINT to every process.
    const child = spawn(process.execPath, [runner], {
      env: this.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after 120 s:\n${this.output.join('')}`)), 120_000);
      const watch = (chunk: Buffer) => {
        this.output.push(chunk.toString());
        if (this.output.join('').includes('press Ctrl-C to stop everything')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', watch);
      child.stderr.on('data', watch);
      child.once('exit', (code) =>
        reject(new Error(`dev runner exited (${code}) before ready:\n${this.output.join('')}`)),
      );
    });
  }

  /** Ctrl-C: resolves to the runner's exit code. */
  async pressCtrlC(): Promise<number | null> {
    const child = this.process;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(-child.pid!, 'SIGINT');
    return exited;
  }

  async dispose(): Promise<void> {
    await this.pressCtrlC();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  async token(claims: { sub: string; email: string; groups: string[]; roles?: ('auditor' | 'admin')[] }) {
    const config = loadConfig(this.env);
    if (config.auth.mode !== 'local') throw new Error('the dev stack runs in local auth mode');
    const key = await loadOrCreateLocalSigningKey(config.auth.signingKeyFile);
    return mintLocalToken(key, config.auth.issuer, config.auth.audience, { roles: [], ...claims }, 600);
  }
}
