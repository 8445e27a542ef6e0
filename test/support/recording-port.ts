import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalOnePassword } from '../../onepassword/local/local-onepassword';
import type {
  CreateItemParams,
  CreateShareLinkParams,
  GroupPermission,
  GroupSummary,
  GroupPermissionsParams,
  ItemSummary,
  OnePasswordPort,
  RotateItemSecretParams,
  RotationResult,
  SetItemSecretParams,
  ShareLink,
} from '../../onepassword/port';

type PortMethod = keyof OnePasswordPort;

export interface RecordedCall {
  method: PortMethod;
  args: unknown[];
  outcome: 'ok' | 'failed';
  /** When the call began. */
  at: Date;
}

/**
 * A 1Password port for tests that records every call (with its arguments and whether it failed) and
 * can be told to fail the next calls of a method. It delegates to a real local 1Password on a
 * temporary state file, so share links, group permissions and rotations behave as they do for
 * the worker; tests assert both the exact calls and the resulting 1Password state.
 */
export class RecordingPort implements OnePasswordPort {
  readonly calls: RecordedCall[] = [];
  private readonly failures = new Map<PortMethod, Error[]>();
  private readonly holds = new Map<PortMethod, Promise<void>>();
  private readonly appliedThenFailed = new Map<PortMethod, Error[]>();
  private outage?: Error;

  private constructor(
    readonly local: LocalOnePassword,
    readonly stateFile: string,
  ) {}

  static async create(): Promise<RecordingPort> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-1p-'));
    const stateFile = path.join(dir, 'local-1password.json');
    return new RecordingPort(new LocalOnePassword({ stateFile }), stateFile);
  }

  async dispose(): Promise<void> {
    await fs.rm(path.dirname(this.stateFile), { recursive: true, force: true });
  }

  /** The next `errors.length` calls of `method` throw these errors, in order (after being recorded). */
  failNext(method: PortMethod, ...errors: Error[]): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), ...errors]);
  }

  /** The next `errors.length` calls of `method` take effect in 1Password, then fail with these errors. */
  applyThenFail(method: PortMethod, ...errors: Error[]): void {
    this.appliedThenFailed.set(method, [...(this.appliedThenFailed.get(method) ?? []), ...errors]);
  }

  /** Every call fails with `error` until `restore()`: an outage of any length (the tests move the clock). */
  startOutage(error: Error): void {
    this.outage = error;
  }

  restore(): void {
    this.outage = undefined;
  }

  /** Calls of `method` do their effect, then wait for `release` before answering (a worker dying mid-call). */
  holdAfterEffect(method: PortMethod, release: Promise<void>): void {
    this.holds.set(method, release);
  }

  callsOf(method: PortMethod): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Calls that change 1Password, in order, as `method` names. */
  writes(): PortMethod[] {
    const writes: PortMethod[] = [
      'createShareLink',
      'grantGroupPermissions',
      'revokeGroupPermissions',
      'rotateItemSecret',
      'setItemSecret',
      'createItem',
      'deleteItem',
    ];
    return this.calls.filter((call) => writes.includes(call.method)).map((call) => call.method);
  }

  private async record<T>(method: PortMethod, args: unknown[], effect: () => Promise<T>): Promise<T> {
    const call: RecordedCall = { method, args: structuredClone(args), outcome: 'ok', at: new Date() };
    this.calls.push(call);
    const failure = this.outage ?? this.failures.get(method)?.shift();
    if (failure) {
      call.outcome = 'failed';
      throw failure;
    }
    try {
      const result = await effect();
      const hold = this.holds.get(method);
      if (hold) await hold;
      const afterEffect = this.appliedThenFailed.get(method)?.shift();
      if (afterEffect) throw afterEffect;
      return result;
    } catch (error) {
      call.outcome = 'failed';
      throw error;
    }
  }

  listVaults() {
    return this.record('listVaults', [], () => this.local.listVaults());
  }
  listItems(vaultId: string) {
    return this.record('listItems', [vaultId], () => this.local.listItems(vaultId));
  }
  findItemId(vaultId: string, title: string) {
    return this.record('findItemId', [vaultId, title], () => this.local.findItemId(vaultId, title));
  }
  getItem(vaultId: string, itemId: string) {
    return this.record('getItem', [vaultId, itemId], () => this.local.getItem(vaultId, itemId));
  }
  getSharePolicy(vaultId: string, itemId: string) {
    return this.record('getSharePolicy', [vaultId, itemId], () => this.local.getSharePolicy(vaultId, itemId));
  }
  createShareLink(params: CreateShareLinkParams): Promise<ShareLink> {
    return this.record('createShareLink', [params], () => this.local.createShareLink(params));
  }
  grantGroupPermissions(params: GroupPermissionsParams): Promise<void> {
    return this.record('grantGroupPermissions', [params], () => this.local.grantGroupPermissions(params));
  }
  revokeGroupPermissions(params: { vaultId: string; groupId: string }): Promise<void> {
    return this.record('revokeGroupPermissions', [params], () => this.local.revokeGroupPermissions(params));
  }
  describeGroup(groupId: string): Promise<GroupSummary> {
    return this.record('describeGroup', [groupId], () => this.local.describeGroup(groupId));
  }
  listGroupPermissions(vaultId: string): Promise<GroupPermission[]> {
    return this.record('listGroupPermissions', [vaultId], () => this.local.listGroupPermissions(vaultId));
  }
  rotateItemSecret(params: RotateItemSecretParams): Promise<RotationResult> {
    return this.record('rotateItemSecret', [params], () => this.local.rotateItemSecret(params));
  }
  getItemSecret(vaultId: string, itemId: string): Promise<string> {
    return this.record('getItemSecret', [vaultId, itemId], () => this.local.getItemSecret(vaultId, itemId));
  }
  setItemSecret(params: SetItemSecretParams): Promise<RotationResult> {
    return this.record('setItemSecret', [params], () => this.local.setItemSecret(params));
  }
  createItem(params: CreateItemParams): Promise<ItemSummary> {
    return this.record('createItem', [params], () => this.local.createItem(params));
  }
  deleteItem(vaultId: string, itemId: string): Promise<void> {
    return this.record('deleteItem', [vaultId, itemId], () => this.local.deleteItem(vaultId, itemId));
  }
}
