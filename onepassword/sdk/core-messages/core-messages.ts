import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../../config/config';
import { wasmLiterals } from './wasm-literals';

/**
 * What the pinned 1Password SDK core can answer when a call fails, read from the SDK package itself:
 * `extract.ts` writes it to `core-messages.json`, the classifier in `onepassword/errors.ts` maps every
 * message in it to a kind, and a test fails when the installed SDK no longer produces exactly the
 * committed list (an upgrade must regenerate it and classify what changed).
 *
 * The core fails with a JSON string `{"name": …, "message": …}`; the SDK's `throwError` keeps the name
 * only for the errors it types and raises a plain `Error(message)` for the rest, so the message is all
 * latchkey can classify. Messages are chains (`authentication error: rate limit exceeded`), built from
 * the literals listed here.
 */
export interface CoreMessages {
  sdk: { version: string; coreVersion: string; coreSha256: string };
  /** Names the SDK's `throwError` turns into typed errors, and whether the core can send each. */
  typedErrors: Array<{ name: string; sentByCore: boolean }>;
  /**
   * The core's message literals: text written by the Display implementations of 1Password's own
   * crates (`op_*`), by their HTTP status mapping, and by the invocation and sign-in code paths.
   */
  messages: string[];
  /** What the real core answered, run here, when 1Password's sign-in endpoint failed in each way. */
  observed: ObservedCoreError[];
}

export interface ObservedCoreError {
  /** What the probe did: an HTTP status answered at sign-in, a network failure, a malformed token. */
  trigger: string;
  name: string;
  message: string;
}

/** A function of one of 1Password's own crates (`op_sdk_core`, `op_log`, `op_api_client`, ...). */
const ONEPASSWORD_CRATE = /(^|[<&\s(])op_[a-z0-9_]+::/;
/** Functions whose literals reach callers as error text. */
const MESSAGE_SOURCE =
  /as core::fmt::Display>::fmt|Loggable>::format|::from_status_code|invocations::handle_(un)?authenticated_invocation|auth_flow::authenticate_session|AuthenticatedClient>::|session_refresher/;

export function isCoreMessage(literal: { text: string; functions: string[] }): boolean {
  const { text, functions } = literal;
  if (!/^[A-Za-z]/.test(text) || !text.includes(' ')) return false;
  // Used anywhere outside 1Password's crates (the standard library, serde plumbing): not a core message.
  if (functions.some((fn) => !ONEPASSWORD_CRATE.test(fn) || /serde/.test(fn))) return false;
  return functions.some((fn) => MESSAGE_SOURCE.test(fn));
}

/** A package's root (neither SDK package exports its `package.json`). */
function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

function versionOf(name: string): string {
  return (JSON.parse(readFileSync(path.join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Everything but the probe: what reading the installed package gives. */
export function readCoreMessages(): Omit<CoreMessages, 'observed'> {
  const wasm = readFileSync(path.join(packageDir('@1password/sdk-core'), 'nodejs', 'core_bg.wasm'));
  const errorsJs = readFileSync(path.join(packageDir('@1password/sdk'), 'dist', 'errors.js'), 'utf8');
  const typedNames = [...errorsJs.matchAll(/case "(\w+)":/g)].map((match) => match[1]);
  return {
    sdk: {
      version: versionOf('@1password/sdk'),
      coreVersion: versionOf('@1password/sdk-core'),
      coreSha256: createHash('sha256').update(wasm).digest('hex'),
    },
    typedErrors: typedNames.map((name) => ({ name, sentByCore: wasm.includes(Buffer.from(name)) })),
    messages: wasmLiterals(wasm)
      .filter(isCoreMessage)
      .map((literal) => literal.text)
      .sort(),
  };
}

interface SdkCore {
  init_client(config: string): Promise<string>;
  release_client(id: number): void;
}

/**
 * A service-account token of the documented shape whose values are made up: the core accepts it,
 * and its first request (sign-in) goes to `fetch`, where the probe answers.
 */
function madeUpServiceAccountToken(): string {
  const credentials = {
    signInAddress: 'my.1password.com',
    email: 'latchkeyprobe@1passwordserviceaccounts.com',
    secretKey: 'A3-C4ZJMN-PQTZTL-HGL84-G64M7-KVZRN-4ZVP6',
    srpX: '1'.repeat(64),
    muk: {
      alg: 'A256GCM',
      ext: true,
      k: Buffer.alloc(32, 7).toString('base64url'),
      key_ops: ['encrypt', 'decrypt'],
      kty: 'oct',
      kid: 'mp',
    },
    userAuth: {
      method: 'SRPg-4096',
      alg: 'PBES2g-HS256',
      iterations: 100000,
      salt: Buffer.alloc(16, 9).toString('base64url'),
    },
    throttleSecret: { seed: 'd'.repeat(64), uuid: 'TP4Z5ZB7IJABDPGIVSUZLY4T5A' },
    deviceUuid: 'ay5shynibdyqisjz3j63b7uygy',
  };
  return `ops_${Buffer.from(JSON.stringify(credentials)).toString('base64url')}`;
}

/** The HTTP statuses 1Password's API answers with, and a request that never gets an answer. */
const SIGN_IN_FAILURES: Array<number | 'network'> = [400, 401, 403, 404, 409, 429, 500, 502, 503, 504, 'network'];

/**
 * Runs the real core (the WASM module, in this process) against a `fetch` that fails sign-in in each
 * way above, and against malformed tokens, and records what it answers. Nothing leaves the machine.
 */
export async function observeCoreErrors(): Promise<ObservedCoreError[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the core has no types of its own
  const core = require('@1password/sdk-core') as SdkCore;
  const realFetch = globalThis.fetch;
  const observed: ObservedCoreError[] = [];
  const attempt = async (trigger: string, token: string) => {
    const config = {
      serviceAccountToken: token,
      programmingLanguage: 'JS',
      sdkVersion: '0050002',
      integrationName: 'latchkey-probe',
      integrationVersion: '0',
      requestLibraryName: 'Fetch API',
      requestLibraryVersion: 'Fetch API',
      os: 'linux',
      osVersion: '0.0.0',
      architecture: 'x64',
    };
    try {
      core.release_client(Number(await core.init_client(JSON.stringify(config))));
      throw new Error(`the core signed in during "${trigger}", which the probe never allows`);
    } catch (error) {
      if (typeof error !== 'string') throw error;
      const { name, message } = JSON.parse(error) as { name: string; message: string };
      observed.push({ trigger, name, message });
    }
  };
  try {
    for (const failure of SIGN_IN_FAILURES) {
      globalThis.fetch = (input: string | URL | Request) => {
        if (failure === 'network') return Promise.reject(new TypeError('fetch failed'));
        const response = new Response('{}', { status: failure, headers: { 'content-type': 'application/json' } });
        // The core reads the response's URL, which a constructed Response leaves empty.
        Object.defineProperty(response, 'url', { value: input instanceof Request ? input.url : String(input) });
        return Promise.resolve(response);
      };
      await attempt(
        failure === 'network' ? 'sign-in request fails (network)' : `sign-in answered HTTP ${failure}`,
        madeUpServiceAccountToken(),
      );
    }
    globalThis.fetch = () => Promise.reject(new Error('the probe makes no request for a malformed token'));
    await attempt('token is not a service-account token', 'not-a-token');
    await attempt('token is not base64', 'ops_***');
    await attempt(
      'token is not a credentials object',
      `ops_${Buffer.from('{"signInAddress":"my.1password.com"}').toString('base64url')}`,
    );
  } finally {
    globalThis.fetch = realFetch;
  }
  return observed;
}

export async function extractCoreMessages(): Promise<CoreMessages> {
  return { ...readCoreMessages(), observed: await observeCoreErrors() };
}

/** The committed fixture, in the source tree (also when run from `dist/`). */
export const CORE_MESSAGES_FILE = path.join(repoRoot(), 'onepassword', 'sdk', 'core-messages', 'core-messages.json');
