import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { Principal } from '../contracts/identity';
import { NOTIFY_CHANNELS, type NotifyChannel, type NotifySpec } from '../contracts/snapshot';
import { approvalsNeeded } from '../domain/approval';
import { formatIsoDuration, parseIsoDuration } from '../domain/duration';
import {
  HISTORY_EVENT_BUDGET,
  type HistoryShape,
  shortestReminderInterval,
  worstCaseHistory,
} from '../domain/history-budget';
import {
  BUILT_IN_GROUP_TYPES,
  type OnePasswordGroupType,
  type OnePasswordPlan,
  vaultPermissionProblems,
} from '../domain/vault-permissions';
import { PolicyError, type PolicyIssue } from './errors';
import type {
  ApproverRef,
  BreakGlassPolicy,
  DatabaseRoleResourcePolicy,
  FlowPolicy,
  IntegrationPolicy,
  LoadedPolicy,
  ResourcePolicy,
  RotatorPolicy,
  TargetPolicy,
  Threshold,
  TierPolicy,
  TokenSource,
  VaultResourcePolicy,
} from './model';
import { schemaProblems } from './schema';
import { type KeyPath, SourceMap } from './source-map';

/** Defaults applied when a flow leaves a key out (docs/policy.md lists them). */
export const POLICY_DEFAULTS = {
  minDuration: 'PT1M',
  /** The default duration is this, or the flow's maximum when that is shorter. */
  defaultDuration: 'PT1H',
  pendingTimeout: 'P7D',
  revokeAlertAfter: 'PT15M',
  /** The requester hears this long before access ends, with a way to extend. */
  warnBeforeEnd: 'PT15M',
  /** Generous for people, still a ceiling for a script gone wrong. */
  openRequestsPerRequester: 20,
} as const;

/** 1Password service-account tokens start with `ops_`; one found anywhere in the file is refused. */
const INLINE_TOKEN = /^ops_[A-Za-z0-9+/=_-]{16,}/;

/** Reads and checks a policy file; the version hashes the file's exact bytes. Throws PolicyError. */
export function loadPolicyFile(file: string): LoadedPolicy {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new PolicyError([{ file, line: 1, column: 1, path: '', message: `cannot read the policy file (${reason})` }]);
  }
  return build(bytes.toString('utf8'), file, versionOf(bytes));
}

/** Checks policy text; `file` names it in messages and anchors relative token files. Throws PolicyError. */
export function parsePolicy(text: string, file: string): LoadedPolicy {
  return build(text, file, versionOf(Buffer.from(text, 'utf8')));
}

function versionOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function build(text: string, file: string, version: string): LoadedPolicy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const map = new SourceMap(file, doc, lines);

  // Messages from the YAML parser never quote the source, so a token pasted by mistake is not echoed.
  const syntax = doc.errors.map((error): PolicyIssue => {
    const { line, col } = lines.linePos(error.pos[0]);
    return { file, line, column: col, path: '', message: error.message };
  });
  if (syntax.length > 0) throw new PolicyError(syntax);

  const data: unknown = doc.toJS();
  const issues = inlineTokens(data, map);
  const flagged = new Set(issues.map((issue) => issue.path));
  for (const problem of schemaProblems(data)) {
    const issue = map.issue(problem.path, problem.message);
    if (!flagged.has(issue.path)) issues.push(issue);
  }
  if (issues.length > 0) throw new PolicyError(sorted(issues));

  const checked = new Checker(data as RawPolicy, map, file).run();
  if (checked.issues.length > 0) throw new PolicyError(sorted(checked.issues));
  return { file, version, ...checked.policy };
}

function sorted(issues: PolicyIssue[]): PolicyIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}

function inlineTokens(data: unknown, map: SourceMap, at: Array<string | number> = []): PolicyIssue[] {
  if (typeof data === 'string') {
    return INLINE_TOKEN.test(data)
      ? [
          map.issue(
            at,
            'looks like a service-account token written inline: refer to it with token: { env: NAME } or { file: PATH }',
          ),
        ]
      : [];
  }
  if (Array.isArray(data)) return data.flatMap((value, i) => inlineTokens(value, map, [...at, i]));
  if (data && typeof data === 'object') {
    return Object.entries(data).flatMap(([key, value]) => inlineTokens(value, map, [...at, key]));
  }
  return [];
}

// ----- The document as the schema guarantees it. -----

type RawPrincipal = { user: string } | { group: string };
type RawApprover = 'resource-owner' | RawPrincipal;
type RawThreshold = 'any' | 'all' | { atLeast: number };

interface RawIntegration {
  name: string;
  kind: 'onepassword' | 'local';
  plan?: OnePasswordPlan;
  serviceAccount: string;
  token?: TokenSource;
  accessDetails?: string;
  reconcile?: 'repair' | 'report';
  owners?: RawPrincipal[];
  resourceOwner?: { tagKey: string };
}

type RawTarget =
  | { name: string; kind: 'postgres'; admin: TokenSource }
  | { name: string; kind: 'command'; command: string[]; timeout?: string };

type RawRotator = 'none' | { target: string; role?: string; endSessions?: boolean };

interface RawResource {
  id?: string;
  idPrefix?: string;
  name?: string;
  integration: string;
  vault?: string;
  item?: string;
  select?: { vault: string; tags?: string[] };
  grant?: 'share-link' | 'rotate-on-revoke' | 'vault-group' | 'database-role';
  rotator?: RawRotator;
  target?: string;
  memberOf?: string[];
  connectionLimit?: number;
  permissions?: string[];
  groups?: Record<string, string | { group: string; type: OnePasswordGroupType }>;
  grantsWholeGroup?: true;
}

interface RawFlow {
  name: string;
  requesters: RawPrincipal[];
  resources?: string[];
  integrations?: string[];
  automatic?: boolean;
  approval?: {
    tiers: Array<{ approvers: RawApprover[]; threshold?: RawThreshold; escalateAfter?: string }>;
    allowSelfApproval?: boolean;
  };
  duration: { min?: string; max: string; default?: string };
  justification?: { required?: boolean; pattern?: string; hint?: string };
  ticket?: { required?: boolean };
  pendingTimeout?: string;
  reminderInterval?: string;
  revokeAlertAfter?: string;
  extensions?: { maxCount?: number; maxDuration?: string; requireApproval?: boolean };
  notify?: { warnBeforeEnd?: string; channels?: NotifyChannel[]; slackChannel?: string };
  breakGlass?: {
    maxDuration: string;
    ratifyWithin: string;
    ratifiers: RawApprover[];
    onNotRatified?: 'end' | 'end-and-rotate';
    perPersonLimit?: { count: number; per: string };
  };
}

interface RawPolicy {
  integrations: RawIntegration[];
  targets?: RawTarget[];
  resources: RawResource[];
  flows: RawFlow[];
  limits?: { openRequestsPerRequester?: number };
}

type PolicyBody = Omit<LoadedPolicy, 'file' | 'version'>;

/** The checks a schema cannot express: references, uniqueness, regexes, and durations that fit together. */
class Checker {
  readonly issues: PolicyIssue[] = [];

  constructor(
    private readonly raw: RawPolicy,
    private readonly map: SourceMap,
    private readonly file: string,
  ) {}

  run(): { issues: PolicyIssue[]; policy: PolicyBody } {
    const integrations = this.raw.integrations.map((raw) => this.integration(raw));
    this.unique(
      this.raw.integrations.map((raw, i) => ({ name: raw.name, at: ['integrations', i, 'name'] })),
      'integration name',
    );

    const targets = (this.raw.targets ?? []).map((raw, i) => this.target(raw, i));
    this.unique(
      (this.raw.targets ?? []).map((raw, i) => ({ name: raw.name, at: ['targets', i, 'name'] })),
      'target name',
    );

    const known = new Set(integrations.map((integration) => integration.name));
    this.raw.resources.forEach((raw, i) => {
      if (!known.has(raw.integration)) {
        this.fail(['resources', i, 'integration'], `integration "${raw.integration}" is not defined`);
      }
    });
    const resources = this.raw.resources.map((raw) => resourceOf(raw));
    resources.forEach((resource, i) => this.targetOf(resource, i, targets));
    resources.forEach((resource, i) => {
      const integration = integrations.find((candidate) => candidate.name === resource.integration);
      if (resource.type !== 'vault') return;
      if (this.raw.resources[i].grantsWholeGroup !== true) {
        this.fail(
          ['resources', i, 'groups'],
          'a vault-group grant gives the permissions to every member of the 1Password group, not only to the requester: add grantsWholeGroup: true to accept that (latchkey onepassword check names each group)',
        );
      }
      if (integration) this.vaultGrant(resource, i, integration.plan);
    });
    this.unique(
      this.raw.resources.map((raw, i) =>
        raw.select
          ? { name: raw.idPrefix!, at: ['resources', i, 'idPrefix'] }
          : { name: raw.id!, at: ['resources', i, 'id'] },
      ),
      'resource id or prefix',
    );

    const flows = this.raw.flows.map((raw, i) => this.flow(raw, i, integrations, resources));
    this.unique(
      this.raw.flows.map((raw, i) => ({ name: raw.name, at: ['flows', i, 'name'] })),
      'flow name',
    );
    const limits = {
      openRequestsPerRequester: this.raw.limits?.openRequestsPerRequester ?? POLICY_DEFAULTS.openRequestsPerRequester,
    };
    return { issues: this.issues, policy: { integrations, targets, resources, flows, limits } };
  }

  private fail(at: KeyPath, message: string): void {
    this.issues.push(this.map.issue(at, message));
  }

  private unique(entries: Array<{ name: string; at: KeyPath }>, what: string): void {
    const first = new Map<string, PolicyIssue>();
    for (const entry of entries) {
      const earlier = first.get(entry.name);
      if (earlier) {
        this.fail(entry.at, `duplicate ${what} "${entry.name}" (first defined at line ${earlier.line})`);
      } else {
        first.set(entry.name, this.map.issue(entry.at, ''));
      }
    }
  }

  private integration(raw: RawIntegration): IntegrationPolicy {
    const token: TokenSource | undefined =
      raw.token && 'file' in raw.token ? { file: path.resolve(path.dirname(this.file), raw.token.file) } : raw.token;
    return {
      name: raw.name,
      kind: raw.kind,
      plan: raw.plan ?? 'business',
      serviceAccount: raw.serviceAccount,
      ...(token ? { token } : {}),
      ...(raw.accessDetails !== undefined ? { accessDetails: raw.accessDetails } : {}),
      reconcile: raw.reconcile ?? 'repair',
      owners: (raw.owners ?? []).map(principalOf),
      ...(raw.resourceOwner ? { resourceOwner: { tagKey: raw.resourceOwner.tagKey } } : {}),
    };
  }

  private target(raw: RawTarget, i: number): TargetPolicy {
    if (raw.kind === 'command') {
      return {
        name: raw.name,
        kind: 'command',
        command: raw.command,
        timeoutMs: this.duration(['targets', i, 'timeout'], raw.timeout ?? 'PT1M'),
      };
    }
    const admin = 'file' in raw.admin ? { file: path.resolve(path.dirname(this.file), raw.admin.file) } : raw.admin;
    return { name: raw.name, kind: 'postgres', admin };
  }

  /**
   * A rotate-on-revoke resource says what changes the credential where it is used (or that nothing does), a
   * database-role resource names a PostgreSQL target, and both name targets that exist and fit.
   */
  private targetOf(resource: ResourcePolicy, i: number, targets: TargetPolicy[]): void {
    const at = (...rest: Array<string | number>): KeyPath => ['resources', i, ...rest];
    const find = (name: string, key: KeyPath) => {
      const target = targets.find((candidate) => candidate.name === name);
      if (!target) this.fail(key, `target "${name}" is not defined (add it under targets:)`);
      return target;
    };
    if (resource.type === 'database-role') {
      const target = find(resource.target, at('target'));
      if (target && target.kind !== 'postgres')
        this.fail(at('target'), `a database-role grant needs a postgres target; "${target.name}" is a ${target.kind}`);
      return;
    }
    if (resource.type === 'vault') return;
    const rotator = this.raw.resources[i].rotator;
    if (resource.grant !== 'rotate-on-revoke') {
      if (rotator !== undefined) this.fail(at('rotator'), 'a rotator is for rotate-on-revoke grants only');
      return;
    }
    if (rotator === undefined) {
      this.fail(
        at('grant'),
        'a rotate-on-revoke grant needs a rotator that changes the credential where it is used: rotator: { target: NAME, role: ROLE } for a postgres target, { target: NAME } for a command, or rotator: none to accept that only the 1Password item changes',
      );
      return;
    }
    if (rotator === 'none') return;
    const target = find(rotator.target, at('rotator', 'target'));
    if (target?.kind === 'postgres' && rotator.role === undefined)
      this.fail(at('rotator'), `a postgres rotator names the role whose password the item holds: role: ROLE`);
    if (target?.kind === 'command' && (rotator.role !== undefined || rotator.endSessions !== undefined))
      this.fail(at('rotator'), 'role and endSessions are for postgres targets; a command knows its own account');
  }

  /** What the integration's 1Password plan can grant: its permission sets, and on Teams built-in groups only. */
  private vaultGrant(resource: VaultResourcePolicy, i: number, plan: OnePasswordPlan): void {
    for (const problem of vaultPermissionProblems(plan, resource.permissions)) {
      this.fail(['resources', i, 'permissions'], problem);
    }
    if (plan !== 'teams') return;
    for (const { identityGroup, groupType } of resource.groups) {
      if (groupType === undefined || groupType === 'userDefined') {
        this.fail(
          ['resources', i, 'groups', identityGroup],
          `1Password Teams has no custom groups: name a built-in group as { group: ID, type: ${BUILT_IN_GROUP_TYPES.join(' | ')} }`,
        );
      }
    }
  }

  /** The schema has already checked the syntax; zero is the one valid text that is still useless. */
  private duration(at: KeyPath, text: string): number {
    const ms = parseIsoDuration(text);
    if (ms === 0) this.fail(at, 'must be longer than zero');
    return ms;
  }

  /** The flow's notifications: the warning before access ends, the channels, where Slack approval requests go. */
  private notify(raw: RawFlow, at: (...rest: Array<string | number>) => KeyPath): NotifySpec {
    const text = raw.notify?.warnBeforeEnd ?? POLICY_DEFAULTS.warnBeforeEnd;
    const warnBeforeEndMs = text === 'off' ? undefined : this.duration(at('notify', 'warnBeforeEnd'), text);
    return {
      ...(warnBeforeEndMs ? { warnBeforeEndMs } : {}),
      channels: raw.notify?.channels ?? [...NOTIFY_CHANNELS],
      ...(raw.notify?.slackChannel !== undefined ? { slackChannel: raw.notify.slackChannel } : {}),
    };
  }

  private optionalDuration(at: KeyPath, text: string | undefined): number | undefined {
    return text === undefined ? undefined : this.duration(at, text);
  }

  private flow(raw: RawFlow, i: number, integrations: IntegrationPolicy[], resources: ResourcePolicy[]): FlowPolicy {
    const at = (...rest: Array<string | number>): KeyPath => ['flows', i, ...rest];
    const automatic = raw.automatic ?? false;

    // What the flow offers.
    const resourceNames = new Set(
      resources.map((resource) => (resource.type === 'selection' ? resource.idPrefix : resource.id)),
    );
    const integrationNames = new Set(integrations.map((integration) => integration.name));
    (raw.resources ?? []).forEach((name, j) => {
      if (!resourceNames.has(name)) this.fail(at('resources', j), `resource "${name}" is not defined`);
    });
    (raw.integrations ?? []).forEach((name, j) => {
      if (!integrationNames.has(name)) this.fail(at('integrations', j), `integration "${name}" is not defined`);
    });
    if (!raw.resources?.length && !raw.integrations?.length) {
      this.fail(
        at('resources'),
        'is required: a flow offers at least one resource (resources) or integration (integrations)',
      );
    }

    // Durations.
    const minMs = this.duration(at('duration', 'min'), raw.duration.min ?? POLICY_DEFAULTS.minDuration);
    const maxMs = this.duration(at('duration', 'max'), raw.duration.max);
    if (minMs > maxMs)
      this.fail(
        at('duration', 'min'),
        `${raw.duration.min ?? POLICY_DEFAULTS.minDuration} is longer than max ${raw.duration.max}`,
      );
    const defaultMs =
      raw.duration.default !== undefined
        ? this.duration(at('duration', 'default'), raw.duration.default)
        : Math.min(parseIsoDuration(POLICY_DEFAULTS.defaultDuration), maxMs);
    if (raw.duration.default !== undefined && (defaultMs < minMs || defaultMs > maxMs)) {
      this.fail(at('duration', 'default'), `${raw.duration.default} is not between min and max`);
    }
    const pendingTimeoutMs = this.duration(at('pendingTimeout'), raw.pendingTimeout ?? POLICY_DEFAULTS.pendingTimeout);
    const reminderIntervalMs = this.optionalDuration(at('reminderInterval'), raw.reminderInterval);
    if (reminderIntervalMs !== undefined && reminderIntervalMs >= pendingTimeoutMs) {
      this.fail(at('reminderInterval'), 'is not shorter than pendingTimeout: no reminder would ever be sent');
    }

    // Justification.
    const pattern = raw.justification?.pattern;
    if (pattern !== undefined) {
      try {
        new RegExp(pattern, 'u');
      } catch (error) {
        this.fail(at('justification', 'pattern'), `is not a valid regular expression (${(error as Error).message})`);
      }
    }

    // Approval.
    if (automatic && raw.approval) this.fail(at('approval'), 'is not allowed in an automatic flow (automatic: true)');
    if (automatic && raw.breakGlass) {
      this.fail(at('breakGlass'), 'is not needed in an automatic flow (automatic: true): its access needs no approver');
    }
    if (!automatic && !raw.approval)
      this.fail(at('approval'), 'is required unless the flow is automatic (automatic: true)');
    const tiers = automatic
      ? []
      : (raw.approval?.tiers ?? []).map((tier, t) => this.tier(tier, at('approval', 'tiers', t)));
    this.escalation(raw, tiers, pendingTimeoutMs, at);
    if (tiers.some((tier) => tier.approvers.some((approver) => approver.kind === 'resource-owner'))) {
      this.ownerReachable(raw, i, integrations, resources);
    }

    // Extensions.
    const maxCount = raw.extensions?.maxCount ?? 0;
    const maxExtensionMs = this.optionalDuration(at('extensions', 'maxDuration'), raw.extensions?.maxDuration) ?? 0;
    if (maxCount > 0 && raw.extensions?.maxDuration === undefined) {
      this.fail(at('extensions', 'maxDuration'), 'is required when maxCount is above 0');
    }
    if (maxExtensionMs > maxMs) {
      this.fail(
        at('extensions', 'maxDuration'),
        `is longer than duration.max ${raw.duration.max}, which caps access in total`,
      );
    }
    if (automatic && raw.extensions?.requireApproval === true) {
      this.fail(at('extensions', 'requireApproval'), 'an automatic flow has no approvers to approve an extension');
    }
    const requireApproval = raw.extensions?.requireApproval ?? !automatic;
    this.historyBudget(at, {
      pendingTimeoutMs,
      reminderIntervalMs,
      // Approvals a tier can accept before its threshold decides (later ones are refused, writing nothing).
      approvalsPerTier: tiers.map(approvalsNeeded),
      extensions: { maxCount, requireApproval },
    });
    const revokeAlertAfterMs = this.duration(
      at('revokeAlertAfter'),
      raw.revokeAlertAfter ?? POLICY_DEFAULTS.revokeAlertAfter,
    );

    return {
      name: raw.name,
      requesters: raw.requesters.map(principalOf),
      resources: raw.resources ?? [],
      integrations: raw.integrations ?? [],
      automatic,
      tiers,
      allowSelfApproval: raw.approval?.allowSelfApproval ?? false,
      duration: { minMs, maxMs, defaultMs },
      justification: {
        required: raw.justification?.required ?? true,
        ...(pattern !== undefined ? { pattern } : {}),
        ...(raw.justification?.hint !== undefined ? { hint: raw.justification.hint } : {}),
      },
      ticket: { required: raw.ticket?.required ?? false },
      pendingTimeoutMs,
      ...(reminderIntervalMs !== undefined ? { reminderIntervalMs } : {}),
      revokeAlertAfterMs,
      extensions: { maxCount, maxExtensionMs, requireApproval },
      ...(raw.breakGlass ? { breakGlass: this.breakGlass(raw, i, integrations, resources, maxMs) } : {}),
      notify: this.notify(raw, at),
    };
  }

  private breakGlass(
    raw: RawFlow,
    i: number,
    integrations: IntegrationPolicy[],
    resources: ResourcePolicy[],
    flowMaxMs: number,
  ): BreakGlassPolicy {
    const rawBreakGlass = raw.breakGlass!;
    const at = (...rest: Array<string | number>): KeyPath => ['flows', i, 'breakGlass', ...rest];
    const maxDurationMs = this.duration(at('maxDuration'), rawBreakGlass.maxDuration);
    const ratifyWithinMs = this.duration(at('ratifyWithin'), rawBreakGlass.ratifyWithin);
    if (maxDurationMs > flowMaxMs) {
      this.fail(at('maxDuration'), `is longer than the flow's duration.max ${raw.duration.max}`);
    }
    if (ratifyWithinMs > maxDurationMs) {
      // Access would have ended on its own before anyone had to ratify it: the window would check nothing.
      this.fail(at('ratifyWithin'), `is longer than maxDuration ${rawBreakGlass.maxDuration}: nothing to ratify`);
    }
    const ratifiers: ApproverRef[] = rawBreakGlass.ratifiers.map((approver) =>
      approver === 'resource-owner' ? { kind: 'resource-owner' } : principalOf(approver),
    );
    if (ratifiers.some((ratifier) => ratifier.kind === 'resource-owner')) {
      this.ownerReachable(raw, i, integrations, resources);
    }
    const onNotRatified = rawBreakGlass.onNotRatified ?? 'end';
    if (onNotRatified === 'end-and-rotate') {
      // Only an item's secret can be replaced; a vault or a database login ends without anything to rotate.
      const unrotatable = offeredResources(raw, resources).filter(
        (resource): resource is VaultResourcePolicy | DatabaseRoleResourcePolicy =>
          resource.type === 'vault' || resource.type === 'database-role',
      );
      if (unrotatable.length > 0) {
        this.fail(
          at('onNotRatified'),
          `end-and-rotate needs items, but the flow offers ${unrotatable.map((resource) => `"${resource.id}" (${resource.type})`).join(', ')}`,
        );
      }
    }
    const limit = rawBreakGlass.perPersonLimit;
    return {
      maxDurationMs,
      ratifyWithinMs,
      ratifiers,
      onNotRatified,
      ...(limit
        ? { perPersonLimit: { count: limit.count, perMs: this.duration(at('perPersonLimit', 'per'), limit.per) } }
        : {}),
    };
  }

  /**
   * A flow whose requests could outgrow Temporal's history limits is refused: a workflow terminated at
   * the limit would leave its grant behind (domain/history-budget.ts says how the events are counted).
   */
  private historyBudget(at: (...keys: Array<string | number>) => KeyPath, shape: HistoryShape): void {
    const estimate = worstCaseHistory(shape);
    if (estimate.total <= HISTORY_EVENT_BUDGET) return;
    const budget = HISTORY_EVENT_BUDGET.toLocaleString('en');
    const total = estimate.total.toLocaleString('en');
    if (estimate.reminderEvents > estimate.total / 2) {
      const fits = formatIsoDuration(shortestReminderInterval(shape));
      this.fail(
        at('reminderInterval'),
        `sends ${estimate.reminders.toLocaleString('en')} reminders before pendingTimeout: a request's history could reach ${total} events, over latchkey's budget of ${budget}; remind at most every ${fits}, or shorten pendingTimeout`,
      );
    } else {
      this.fail(
        at('extensions', 'maxCount'),
        `lets a request's history reach ${total} events, over latchkey's budget of ${budget}; allow fewer extensions or approvals`,
      );
    }
  }

  private tier(
    raw: { approvers: RawApprover[]; threshold?: RawThreshold; escalateAfter?: string },
    at: KeyPath,
  ): TierPolicy {
    const approvers: ApproverRef[] = raw.approvers.map((approver) =>
      approver === 'resource-owner' ? { kind: 'resource-owner' } : principalOf(approver),
    );
    const threshold: Threshold =
      raw.threshold === undefined || raw.threshold === 'any'
        ? { kind: 'any' }
        : raw.threshold === 'all'
          ? { kind: 'all' }
          : { kind: 'atLeast', count: raw.threshold.atLeast };
    // Groups (and the resource owner, usually a group) may hold any number of people; users are one each.
    if (threshold.kind === 'atLeast' && approvers.every((approver) => approver.kind === 'user')) {
      const users = new Set(approvers.map((approver) => (approver as { id: string }).id)).size;
      if (threshold.count > users) {
        this.fail(
          [...at, 'threshold'],
          `atLeast ${threshold.count} can never be reached: the tier names only ${users} user${users === 1 ? '' : 's'}`,
        );
      }
    }
    const escalateAfterMs = this.optionalDuration([...at, 'escalateAfter'], raw.escalateAfter);
    return { approvers, threshold, ...(escalateAfterMs !== undefined ? { escalateAfterMs } : {}) };
  }

  private escalation(
    raw: RawFlow,
    tiers: TierPolicy[],
    pendingTimeoutMs: number,
    at: (...rest: Array<string | number>) => KeyPath,
  ): void {
    let elapsed = 0;
    tiers.forEach((tier, t) => {
      const tierAt = at('approval', 'tiers', t);
      const last = t === tiers.length - 1;
      if (last && tier.escalateAfterMs !== undefined) {
        this.fail([...tierAt, 'escalateAfter'], 'the last tier has no next tier to escalate to');
      }
      if (!last && tier.escalateAfterMs === undefined) {
        this.fail(
          tierAt,
          'escalateAfter is required on every tier but the last: otherwise the next tier is never asked',
        );
      }
      if (!last && tier.escalateAfterMs !== undefined) {
        elapsed += tier.escalateAfterMs;
        if (elapsed >= pendingTimeoutMs) {
          this.fail(
            [...tierAt, 'escalateAfter'],
            `tier ${t + 1} would be asked only after the request times out (pendingTimeout ${raw.pendingTimeout ?? POLICY_DEFAULTS.pendingTimeout})`,
          );
        }
      }
    });
  }

  /** A resource-owner approver must be able to name somebody: an owner tag rule or integration owners. */
  private ownerReachable(
    raw: RawFlow,
    i: number,
    integrations: IntegrationPolicy[],
    resources: ResourcePolicy[],
  ): void {
    const offered = offeredResources(raw, resources);
    const names = new Set(offered.map((resource) => resource.integration));
    for (const name of names) {
      const integration = integrations.find((candidate) => candidate.name === name);
      if (integration && !integration.resourceOwner && integration.owners.length === 0) {
        this.fail(
          ['flows', i, 'approval'],
          `resource-owner can name nobody for integration "${name}": it has neither resourceOwner nor owners`,
        );
      }
    }
  }
}

/** The resources a flow offers, by name or through their integration. */
function offeredResources(raw: RawFlow, resources: ResourcePolicy[]): ResourcePolicy[] {
  return resources.filter(
    (resource) =>
      raw.integrations?.includes(resource.integration) ||
      raw.resources?.includes(resource.type === 'selection' ? resource.idPrefix : resource.id),
  );
}

function principalOf(raw: RawPrincipal): Principal {
  return 'user' in raw ? { kind: 'user', id: raw.user } : { kind: 'group', id: raw.group };
}

function rotatorOf(raw: RawRotator | undefined): RotatorPolicy | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'none') return { kind: 'none' };
  return {
    kind: 'target',
    target: raw.target,
    ...(raw.role !== undefined ? { role: raw.role } : {}),
    endSessions: raw.endSessions ?? true,
  };
}

function resourceOf(raw: RawResource): ResourcePolicy {
  const rotator = raw.grant === 'rotate-on-revoke' ? rotatorOf(raw.rotator) : undefined;
  if (raw.select) {
    return {
      type: 'selection',
      idPrefix: raw.idPrefix!,
      integration: raw.integration,
      vaultId: raw.select.vault,
      tags: raw.select.tags ?? [],
      grant: raw.grant === 'rotate-on-revoke' ? 'rotate-on-revoke' : 'share-link',
      ...(rotator ? { rotator } : {}),
    };
  }
  const named = raw.name !== undefined ? { name: raw.name } : {};
  if (raw.item !== undefined) {
    return {
      type: 'item',
      id: raw.id!,
      ...named,
      integration: raw.integration,
      vaultId: raw.vault!,
      itemId: raw.item,
      grant: raw.grant === 'rotate-on-revoke' ? 'rotate-on-revoke' : 'share-link',
      ...(rotator ? { rotator } : {}),
    };
  }
  if (raw.grant === 'database-role') {
    return {
      type: 'database-role',
      id: raw.id!,
      ...named,
      integration: raw.integration,
      vaultId: raw.vault!,
      grant: 'database-role',
      target: raw.target!,
      memberOf: raw.memberOf ?? [],
      connectionLimit: raw.connectionLimit ?? 2,
    };
  }
  return {
    type: 'vault',
    id: raw.id!,
    ...named,
    integration: raw.integration,
    vaultId: raw.vault!,
    grant: 'vault-group',
    permissions: raw.permissions ?? [],
    groups: Object.entries(raw.groups ?? {}).map(([identityGroup, group]) =>
      typeof group === 'string'
        ? { identityGroup, onePasswordGroup: group }
        : { identityGroup, onePasswordGroup: group.group, groupType: group.type },
    ),
  };
}
