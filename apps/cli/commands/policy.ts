import { parseArgs } from 'node:util';
import { type LatchkeyConfig, loadConfig } from '../../../config/config';
import { SIMULATE_HELP, simulatePolicy } from './policy-simulate';
import type { Identity, Principal } from '../../../contracts/identity';
import type { ApprovalTier, FlowSnapshot, ThresholdSpec } from '../../../contracts/snapshot';
import {
  evaluateRequest,
  formatIssue,
  type LoadedPolicy,
  loadPolicyFile,
  PolicyError,
  requestableResources,
} from '../../../policy';
import { demoCatalog } from '../../../policy/demo-catalog';
import { formatIsoDuration } from '../../../domain/duration';
import { shortestCoveringBucket } from '../../../domain/share-links';
import { guaranteeFor } from '../../../domain/guarantees';

const HELP = `latchkey policy: check and explain the access policy

  policy check FILE
      Validate FILE and summarise its integrations, resources and flows.
      Exit 0 when valid, 1 with every issue listed (FILE:LINE:COLUMN KEY: MESSAGE).

  policy explain --user ID [--groups a,b] --resource R [--duration PT2H] [--email E]
                 [--justification TEXT] [--ticket T] [--policy FILE] [--json]
      Dry run of a request: which flow applies, who approves in each tier, the threshold, the
      longest duration, the deadlines, the grant mode and its guarantee, or why it would be refused.
      Without --justification (--ticket) the flow's justification (ticket) rule is shown, not checked.
      The policy defaults to the configured one (LATCHKEY_POLICY_FILE, else config/policy.yaml); the
      catalog is the local 1Password's demo seed. Exit 0 when allowed, 1 when refused, 2 on bad input.

${SIMULATE_HELP}`;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/**
 * `latchkey policy ...`: `argv` holds the words after `policy`. Resolves to the exit code. Only `simulate`
 * reaches Temporal, so only it reads the configuration.
 */
export async function runPolicyCommand(
  argv: string[],
  io: Io,
  config: () => LatchkeyConfig = loadConfig,
): Promise<number> {
  if (argv[0] === 'simulate') {
    try {
      return await simulatePolicy(argv.slice(1), io, config());
    } catch (error) {
      return reportError(error, io, 2);
    }
  }
  return run(argv, io);
}

function run(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'check':
        return check(rest, io);
      case 'explain':
        return explain(rest, io);
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return 0;
      default:
        io.err(HELP);
        return 2;
    }
  } catch (error) {
    return reportError(error, io);
  }
}

/** A broken policy is exit 1 for `check` (the answer) and 2 for `simulate` (bad input: 1 means refusals). */
function reportError(error: unknown, io: Io, brokenPolicyExit = 1): number {
  if (error instanceof PolicyError) {
    io.err(error.issues.map(formatIssue).join('\n'));
    io.err(`${error.issues.length} issue${error.issues.length === 1 ? '' : 's'}: the policy cannot be used`);
    return brokenPolicyExit;
  }
  // parseArgs refuses unknown or malformed options with a readable message.
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    io.err(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  throw error;
}

function check(argv: string[], io: Io): number {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  if (positionals.length !== 1) {
    io.err(HELP);
    return 2;
  }
  const policy = loadPolicyFile(positionals[0]);
  const lines = [`${policy.file}: valid`, `version       ${policy.version}`];
  lines.push(`integrations  ${policy.integrations.length}`);
  for (const integration of policy.integrations) {
    const token = integration.token
      ? 'env' in integration.token
        ? `token from $${integration.token.env}`
        : 'token from a file'
      : 'no token';
    lines.push(`  ${integration.name} (${integration.kind}, service account ${integration.serviceAccount}, ${token})`);
  }
  lines.push(`resources     ${policy.resources.length}`);
  for (const resource of policy.resources) {
    lines.push(
      resource.type === 'selection'
        ? `  ${resource.idPrefix}-<itemId>: items of vault ${resource.vaultId}${resource.tags.length ? ` tagged ${resource.tags.join(', ')}` : ''} (${resource.integration}, ${resource.grant})`
        : resource.type === 'item'
          ? `  ${resource.id}: item ${resource.vaultId}/${resource.itemId} (${resource.integration}, ${resource.grant})`
          : resource.type === 'database-role'
            ? `  ${resource.id}: a login of one's own on target ${resource.target}, its item in vault ${resource.vaultId} (${resource.integration}, database-role)`
            : `  ${resource.id}: vault ${resource.vaultId} (${resource.integration}, vault-group)`,
    );
  }
  lines.push(`flows         ${policy.flows.length} (tried in this order)`);
  for (const flow of policy.flows) {
    const offers = [...flow.resources, ...flow.integrations.map((name) => `integration ${name}`)].join(', ');
    const approval = flow.automatic ? 'automatic' : `${flow.tiers.length} tier${flow.tiers.length === 1 ? '' : 's'}`;
    const breakGlass = flow.breakGlass
      ? `; break-glass up to ${formatIsoDuration(flow.breakGlass.maxDurationMs)}, ratified within ${formatIsoDuration(flow.breakGlass.ratifyWithinMs)}`
      : '';
    lines.push(`  ${flow.name}: ${offers}; ${approval}; up to ${formatIsoDuration(flow.duration.maxMs)}${breakGlass}`);
  }
  io.out(lines.join('\n'));
  return 0;
}

function explain(argv: string[], io: Io): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      user: { type: 'string' },
      groups: { type: 'string', default: '' },
      resource: { type: 'string' },
      duration: { type: 'string' },
      email: { type: 'string' },
      justification: { type: 'string' },
      ticket: { type: 'string' },
      policy: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.user || !values.resource) {
    io.err(`--user and --resource are required\n\n${HELP}`);
    return 2;
  }
  const policy = loadPolicyFile(values.policy ?? loadConfig().policyFile);
  const identity: Identity = {
    id: values.user,
    email: values.email ?? '',
    groups: values.groups
      .split(',')
      .map((group) => group.trim())
      .filter(Boolean),
  };
  const catalog = demoCatalog();
  // A dry run is about who and how long: text rules the caller did not exercise are shown, not applied.
  const evaluated = evaluateRequest(relaxUnchecked(policy, values), catalog, identity, {
    resourceId: values.resource,
    ...(values.duration !== undefined ? { duration: values.duration } : {}),
    ...(values.justification !== undefined ? { justification: values.justification } : {}),
    ...(values.ticket !== undefined ? { ticket: values.ticket } : {}),
  });
  if (values.json) {
    io.out(JSON.stringify(evaluated, null, 2));
    return evaluated.ok ? 0 : 1;
  }

  const groups = identity.groups.length ? identity.groups.join(', ') : 'none';
  const header = [
    `policy        ${policy.file} (${policy.version})`,
    `request       ${identity.id} (groups: ${groups}) asks for ${values.resource}${values.duration ? ` for ${values.duration}` : ''}`,
  ];
  if (!evaluated.ok) {
    const { refusal } = evaluated;
    io.out(
      [
        ...header,
        `decision      REFUSED (${refusal.code})`,
        `rule          ${refusal.rule}`,
        `why           ${refusal.message}`,
      ].join('\n'),
    );
    return 1;
  }
  const snapshot = evaluated.snapshot;
  const flow = policy.flows.find((candidate) => candidate.name === snapshot.flowName)!;
  const listed = requestableResources(policy, catalog, identity).find(
    (resource) => resource.id === snapshot.resource.id,
  );
  io.out(
    [
      ...header,
      `decision      ALLOWED by flow ${snapshot.flowName} (the first flow in the file that offers ${snapshot.resource.id} to ${identity.id})`,
      ...describeResource(
        snapshot,
        flow.tiers.some((tier) => tier.approvers.some((ref) => ref.kind === 'resource-owner')),
      ),
      ...describeApproval(snapshot, identity.id),
      `duration      ${formatIsoDuration(snapshot.durationMs)} (this flow allows ${formatIsoDuration(flow.duration.minMs)} to ${formatIsoDuration(snapshot.maxDurationMs)}, default ${listed?.flow.defaultDuration ?? formatIsoDuration(flow.duration.defaultMs)}); the clock starts when access is granted`,
      `justification ${flow.justification.required ? 'required' : 'optional'}${flow.justification.pattern ? `, must match /${flow.justification.pattern}/${flow.justification.hint ? ` (${flow.justification.hint})` : ''}` : ''}${values.justification === undefined ? ' (not checked: no --justification given)' : ' (checked)'}`,
      `ticket        ${flow.ticket.required ? 'required' : 'optional'}${flow.ticket.required && values.ticket === undefined ? ' (not checked: no --ticket given)' : ''}`,
      ...describeDeadlines(snapshot),
      ...describeGrant(snapshot, values.email),
      `extensions    ${describeExtensions(snapshot)}`,
      ...(snapshot.integration.accessDetails ? [`details       ${snapshot.integration.accessDetails}`] : []),
    ].join('\n'),
  );
  return 0;
}

function relaxUnchecked(policy: LoadedPolicy, values: { justification?: string; ticket?: string }): LoadedPolicy {
  return {
    ...policy,
    flows: policy.flows.map((flow) => ({
      ...flow,
      justification: values.justification === undefined ? { required: false } : flow.justification,
      ticket: values.ticket === undefined ? { required: false } : flow.ticket,
    })),
  };
}

function describeResource(snapshot: FlowSnapshot, asksOwner: boolean): string[] {
  const { resource, integration } = snapshot;
  const where =
    resource.type === 'item'
      ? `item ${resource.itemId} in vault ${resource.vaultId}`
      : resource.type === 'database'
        ? `a database login made per grant, its item in vault ${resource.vaultId}`
        : `vault ${resource.vaultId}`;
  const lines = [
    `resource      ${resource.id} "${resource.name}": ${where} (integration ${integration.name}, ${integration.kind})`,
  ];
  if (asksOwner) {
    lines.push(
      `owner         ${resource.owner ? `${principal(resource.owner)} (from the item's owner tag), approves as resource-owner` : `none found: resource-owner means the owners of integration ${integration.name}`}`,
    );
  }
  return lines;
}

function describeApproval(snapshot: FlowSnapshot, requesterId: string): string[] {
  const { approval } = snapshot;
  if (approval.automatic) return ['approval      automatic: granted without approval'];
  const lines = approval.tiers.map(
    (tier, index) => `${index === 0 ? 'approval' : '        '}      tier ${index}: ${describeTier(tier)}`,
  );
  lines.push(
    `              self-approval ${approval.allowSelfApproval ? `allowed (${requesterId} may approve their own request)` : `not allowed (${requesterId} cannot approve this request)`}`,
  );
  return lines;
}

function describeTier(tier: ApprovalTier): string {
  return `${tier.approvers.map(principal).join(', ')}; ${threshold(tier.threshold)}`;
}

function threshold(spec: ThresholdSpec): string {
  switch (spec.kind) {
    case 'any':
      return 'any one approval';
    case 'all':
      return 'an approval from each of them';
    case 'atLeast':
      return `at least ${spec.count} approvals`;
  }
}

function principal(value: Principal): string {
  return `${value.kind} ${value.id}`;
}

function describeDeadlines(snapshot: FlowSnapshot): string[] {
  const lines: string[] = [];
  if (!snapshot.approval.automatic) {
    let elapsed = 0;
    snapshot.approval.tiers.forEach((tier, index) => {
      if (tier.escalateAfterMs === undefined) return;
      elapsed += tier.escalateAfterMs;
      lines.push(`tier ${index + 1} is asked ${formatIsoDuration(elapsed)} after the request if nobody has decided`);
    });
    lines.push(
      `the request times out ${formatIsoDuration(snapshot.pendingTimeoutMs)} after it is made if still undecided`,
    );
    lines.push(
      snapshot.reminderIntervalMs !== undefined
        ? `approvers are reminded every ${formatIsoDuration(snapshot.reminderIntervalMs)} while it waits`
        : 'approvers are not reminded',
    );
  }
  lines.push(`access ends ${formatIsoDuration(snapshot.durationMs)} after it is granted`);
  return lines.map((line, index) => `${index === 0 ? 'deadlines' : '         '}     ${line}`);
}

function describeGrant(snapshot: FlowSnapshot, email: string | undefined): string[] {
  const { grant } = snapshot;
  const end = `T = ${formatIsoDuration(snapshot.durationMs)} after the grant`;
  // A share link's T is its expiry bucket; every other mode's is the end of the approved time.
  const guarantee = (bucket?: string) =>
    `guarantee     "${guaranteeFor(grant, 'T', bucket && 'T').statement}" (${bucket ? `T = ${bucket} after the grant` : end})`;
  if (grant.mode === 'vault-group') {
    return [
      `grant         vault-group: 1Password group ${grant.groupId} gets ${grant.permissions.join(', ')} on vault ${grant.vaultId}`,
      guarantee(),
    ];
  }
  const bucket = shortestCoveringBucket(snapshot.durationMs);
  const link = `one-view share link to ${email ?? "the requester's verified e-mail"}, expiring after ${bucket ?? '(no 1Password expiry is long enough)'}, the shortest 1Password expiry that covers ${formatIsoDuration(snapshot.durationMs)}`;
  if (grant.mode === 'database-role') {
    return [
      `grant         database-role: a PostgreSQL login of the requester's own on target ${grant.target} (member of ${grant.memberOf.join(', ')}, at most ${grant.connectionLimit} connections, VALID UNTIL T), in an item of vault ${grant.vaultId} sent as a ${link}; dropped with its sessions when access ends`,
      guarantee(),
    ];
  }
  if (!grant.rotateOnRevoke) return [`grant         share-link: ${link}`, guarantee(bucket ?? '?')];
  const rotator = grant.rotator ?? { kind: 'none' };
  const where =
    rotator.kind === 'postgres'
      ? `role ${rotator.role}'s password on target ${rotator.target} then the item`
      : rotator.kind === 'command'
        ? `the command of target ${rotator.target} then the item`
        : 'the item only (rotator: none)';
  return [`grant         rotate-on-revoke: ${link}; when access ends a new secret is set in ${where}`, guarantee()];
}

function describeExtensions(snapshot: FlowSnapshot): string {
  const { extensions } = snapshot;
  if (extensions.maxCount === 0) return 'none';
  return `up to ${extensions.maxCount}, each up to ${formatIsoDuration(extensions.maxExtensionMs)}, ${extensions.requireApproval ? 're-approved by the same tiers' : 'without re-approval'}; never beyond ${formatIsoDuration(snapshot.maxDurationMs)} in total`;
}
