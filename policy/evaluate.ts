import type { OnePasswordPlan } from '../domain/vault-permissions';
import type { CatalogGroup, CatalogItem, ResourceCatalog } from '../contracts/catalog';
import { type Identity, type Principal, principalKey } from '../contracts/identity';
import type {
  ApprovalTier,
  BreakGlassSpec,
  FlowSnapshot,
  GrantSpec,
  ResourceSnapshot,
  RotatorSpec,
} from '../contracts/snapshot';
import { formatIsoDuration, parseIsoDuration } from '../domain/duration';
import type {
  FlowPolicy,
  GrantMode,
  IntegrationKind,
  IntegrationPolicy,
  LoadedPolicy,
  ResourcePolicy,
  SelectionResourcePolicy,
  TierPolicy,
  TokenSource,
  RotatorPolicy,
} from './model';

/** What a requester asks for, before policy has looked at it. */
export interface AccessRequestDraft {
  resourceId: string;
  /** ISO 8601; the flow's default duration when absent. */
  duration?: string;
  justification?: string;
  ticket?: string;
  /** Break-glass: access at once, to be ratified (only where the flow offers it). */
  breakGlass?: boolean;
}

export type RefusalCode =
  | 'unknown-resource'
  | 'not-eligible'
  | 'duration-invalid'
  | 'duration-too-long'
  | 'duration-too-short'
  | 'justification-required'
  | 'justification-mismatch'
  | 'ticket-required'
  | 'no-approvers'
  | 'grant-mode-unavailable'
  | 'break-glass-unavailable';

export interface Refusal {
  code: RefusalCode;
  /** The policy rule that refused, e.g. `flows.prod-access.duration.max`. */
  rule: string;
  /** Clear and safe to show to the requester: no secret, no e-mail address. */
  message: string;
}

export type Evaluation = { ok: true; snapshot: FlowSnapshot } | { ok: false; refusal: Refusal };

export interface RequestableResource {
  id: string;
  name: string;
  /** `database`: a login of the requester's own, made for each grant. */
  type: 'item' | 'vault' | 'database';
  integration: string;
  grantMode: GrantMode;
  flow: {
    name: string;
    automatic: boolean;
    maxDuration: string;
    defaultDuration: string;
    justificationRequired: boolean;
    ticketRequired: boolean;
    /** Per tier, resolved (resource owner or integration owners already applied). */
    approvers: Principal[][];
    /** Break-glass, when the flow offers it: access at once, ratified by these within `ratifyWithin` or ended. */
    breakGlass?: { maxDuration: string; ratifyWithin: string; ratifiers: Principal[]; onNotRatified: string };
  };
  accessDetails?: string;
  /**
   * Vaults: whom a grant reaches. The permissions go to the whole 1Password group mapped from the
   * requester's identity group, so every member of it gets them (title and kind when the catalog knows them).
   */
  reaches?: Array<{ identityGroup: string; groupId: string; title?: string; type?: string }>;
}

/** One requestable resource, after selections have been expanded against the catalog. */
interface ResolvedResource {
  id: string;
  name: string;
  type: 'item' | 'vault' | 'database';
  /** Resource id, or the selection's prefix: the name flows use to offer it. */
  flowName: string;
  integration: string;
  vaultId: string;
  itemId?: string;
  grant: GrantMode;
  definition: ResourcePolicy;
  /** Catalog entry of the item, when the catalog has it. */
  item?: CatalogItem;
}

/**
 * Every resource the policy defines, in file order: explicit items and vaults first in the order
 * written (whether or not the catalog has discovered them yet), with each selection expanded in place
 * into `<idPrefix>-<itemId>` for the catalog's matching items (sorted by item id). An id already taken
 * by an earlier resource is not produced again.
 */
function resolveResources(policy: LoadedPolicy, catalog: ResourceCatalog): ResolvedResource[] {
  const resolved: ResolvedResource[] = [];
  const taken = new Set<string>();
  const explicit = policy.resources.filter((resource) => resource.type !== 'selection');
  for (const resource of explicit) taken.add(resource.id);

  for (const resource of policy.resources) {
    if (resource.type === 'selection') {
      for (const item of selectedItems(resource, catalog)) {
        const id = `${resource.idPrefix}-${item.itemId}`;
        if (taken.has(id)) continue;
        taken.add(id);
        resolved.push({
          id,
          name: item.title,
          type: 'item',
          flowName: resource.idPrefix,
          integration: resource.integration,
          vaultId: item.vaultId,
          itemId: item.itemId,
          grant: resource.grant,
          definition: resource,
          item,
        });
      }
      continue;
    }
    if (resource.type === 'item') {
      const item = catalog.items.find(
        (candidate) =>
          candidate.integration === resource.integration &&
          candidate.vaultId === resource.vaultId &&
          candidate.itemId === resource.itemId,
      );
      resolved.push({
        id: resource.id,
        name: resource.name ?? item?.title ?? resource.id,
        type: 'item',
        flowName: resource.id,
        integration: resource.integration,
        vaultId: resource.vaultId,
        itemId: resource.itemId,
        grant: resource.grant,
        definition: resource,
        ...(item ? { item } : {}),
      });
      continue;
    }
    if (resource.type === 'database-role') {
      resolved.push({
        id: resource.id,
        name: resource.name ?? resource.id,
        type: 'database',
        flowName: resource.id,
        integration: resource.integration,
        vaultId: resource.vaultId,
        grant: 'database-role',
        definition: resource,
      });
      continue;
    }
    const vault = catalog.vaults.find(
      (candidate) => candidate.integration === resource.integration && candidate.vaultId === resource.vaultId,
    );
    resolved.push({
      id: resource.id,
      name: resource.name ?? vault?.title ?? resource.id,
      type: 'vault',
      flowName: resource.id,
      integration: resource.integration,
      vaultId: resource.vaultId,
      grant: 'vault-group',
      definition: resource,
    });
  }
  return resolved;
}

function selectedItems(selection: SelectionResourcePolicy, catalog: ResourceCatalog): CatalogItem[] {
  return catalog.items
    .filter(
      (item) =>
        item.integration === selection.integration &&
        item.vaultId === selection.vaultId &&
        selection.tags.every((tag) => item.tags.includes(tag)),
    )
    .sort((a, b) => (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
}

function offers(flow: FlowPolicy, resource: ResolvedResource): boolean {
  return flow.resources.includes(resource.flowName) || flow.integrations.includes(resource.integration);
}

function mayRequest(flow: FlowPolicy, identity: Identity): boolean {
  return flow.requesters.some((principal) =>
    principal.kind === 'user' ? principal.id === identity.id : identity.groups.includes(principal.id),
  );
}

/** The flow that decides: the first flow in file order that offers the resource to this requester. */
function chooseFlow(policy: LoadedPolicy, resource: ResolvedResource, identity: Identity): FlowPolicy | undefined {
  return policy.flows.find((flow) => offers(flow, resource) && mayRequest(flow, identity));
}

function integrationOf(policy: LoadedPolicy, name: string): IntegrationPolicy {
  const integration = policy.integrations.find((candidate) => candidate.name === name);
  // parsePolicy refuses a resource naming an unknown integration, so this only trips on a hand-built policy.
  if (!integration) throw new Error(`policy has no integration "${name}"`);
  return integration;
}

/** The owning group named by the first `<tagKey>:<group>` tag of the item, if the integration has the rule. */
function resourceOwner(integration: IntegrationPolicy, resource: ResolvedResource): Principal | undefined {
  const tagKey = integration.resourceOwner?.tagKey;
  if (!tagKey || !resource.item) return undefined;
  for (const tag of resource.item.tags) {
    if (!tag.startsWith(`${tagKey}:`)) continue;
    const group = tag.slice(tagKey.length + 1).trim();
    if (group) return { kind: 'group', id: group };
  }
  return undefined;
}

function resolveTier(tier: TierPolicy, owner: Principal | undefined, integration: IntegrationPolicy): Principal[] {
  const approvers = tier.approvers.flatMap((approver) =>
    approver.kind === 'resource-owner' ? (owner ? [owner] : integration.owners) : [approver],
  );
  const seen = new Set<string>();
  return approvers.filter((principal) => {
    const key = principalKey(principal);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Whether someone other than the requester (unless self-approval is allowed) could complete the tier.
 * Group membership is not known here, so a group counts as possibly many approvers, the requester's own
 * groups included: other members may approve.
 */
function tierCanComplete(tier: ApprovalTier, requesterId: string, allowSelfApproval: boolean): boolean {
  const excluded = (principal: Principal) =>
    !allowSelfApproval && principal.kind === 'user' && principal.id === requesterId;
  const others = tier.approvers.filter((principal) => !excluded(principal));
  switch (tier.threshold.kind) {
    case 'any':
      return others.length > 0;
    case 'all':
      return others.length > 0 && others.length === tier.approvers.length;
    case 'atLeast':
      return others.some((principal) => principal.kind === 'group') || others.length >= tier.threshold.count;
  }
}

function refuse(code: RefusalCode, rule: string, message: string): Evaluation {
  return { ok: false, refusal: { code, rule, message } };
}

/**
 * Decides a request against the policy, purely: either a refusal naming the rule, or the flow snapshot
 * the workflow will run on (approvers per tier, threshold, deadlines, grant, details, policy version).
 */
export function evaluateRequest(
  policy: LoadedPolicy,
  catalog: ResourceCatalog,
  identity: Identity,
  draft: AccessRequestDraft,
): Evaluation {
  const resource = resolveResources(policy, catalog).find((candidate) => candidate.id === draft.resourceId);
  if (!resource)
    return refuse('unknown-resource', 'resources', `there is no requestable resource "${draft.resourceId}"`);

  const flow = chooseFlow(policy, resource, identity);
  if (!flow) {
    const offering = policy.flows.filter((candidate) => offers(candidate, resource));
    return offering.length === 0
      ? refuse('not-eligible', `resources.${resource.id}`, `no access flow offers "${resource.id}"`)
      : refuse(
          'not-eligible',
          `flows.${offering[0].name}.requesters`,
          `you are not among the requesters of ${offering.map((candidate) => `flow "${candidate.name}"`).join(', ')} for "${resource.id}"`,
        );
  }
  const rule = `flows.${flow.name}`;
  const breakGlass = draft.breakGlass ? flow.breakGlass : undefined;
  if (draft.breakGlass && !breakGlass) {
    return refuse('break-glass-unavailable', `${rule}.breakGlass`, `flow "${flow.name}" offers no break-glass access`);
  }
  // Break-glass is shorter than the flow allows, and its maximum is its own rule.
  const maxMs = breakGlass ? breakGlass.maxDurationMs : flow.duration.maxMs;
  const maxRule = breakGlass ? `${rule}.breakGlass.maxDuration` : `${rule}.duration.max`;

  let durationMs: number;
  if (draft.duration === undefined) {
    durationMs = Math.min(flow.duration.defaultMs, maxMs);
  } else {
    try {
      durationMs = parseIsoDuration(draft.duration);
    } catch {
      return refuse(
        'duration-invalid',
        `${rule}.duration`,
        'duration must be an ISO 8601 duration such as PT30M, PT8H or P1D',
      );
    }
    if (durationMs === 0) return refuse('duration-invalid', `${rule}.duration`, 'duration must be longer than zero');
  }
  if (durationMs > maxMs) {
    return refuse(
      'duration-too-long',
      maxRule,
      `${formatIsoDuration(durationMs)} is longer than the longest ${breakGlass ? 'break-glass ' : ''}access this flow allows, ${formatIsoDuration(maxMs)}`,
    );
  }
  if (durationMs < flow.duration.minMs) {
    return refuse(
      'duration-too-short',
      `${rule}.duration.min`,
      `${formatIsoDuration(durationMs)} is shorter than the shortest access this flow allows, ${formatIsoDuration(flow.duration.minMs)}`,
    );
  }

  const justification = draft.justification?.trim() ?? '';
  if (breakGlass && justification === '') {
    return refuse('justification-required', `${rule}.breakGlass`, 'break-glass access always needs a justification');
  }
  if (flow.justification.required && justification === '') {
    return refuse('justification-required', `${rule}.justification.required`, 'a justification is required');
  }
  if (
    justification !== '' &&
    flow.justification.pattern !== undefined &&
    !new RegExp(flow.justification.pattern, 'u').test(justification)
  ) {
    return refuse(
      'justification-mismatch',
      `${rule}.justification.pattern`,
      `the justification does not have the required form${flow.justification.hint ? `: ${flow.justification.hint}` : ''}`,
    );
  }
  if (flow.ticket.required && !draft.ticket?.trim()) {
    return refuse('ticket-required', `${rule}.ticket.required`, 'a ticket reference is required');
  }

  const grant = grantSpec(policy, resource, identity, catalog);
  if (!grant.ok) return grant.evaluation;

  const integration = integrationOf(policy, resource.integration);
  const owner = resourceOwner(integration, resource);
  const tiers: ApprovalTier[] = flow.automatic
    ? []
    : flow.tiers.map((tier) => ({
        approvers: resolveTier(tier, owner, integration),
        threshold: tier.threshold,
        ...(tier.escalateAfterMs !== undefined ? { escalateAfterMs: tier.escalateAfterMs } : {}),
      }));
  if (!flow.automatic && !tiers.some((tier) => tierCanComplete(tier, identity.id, flow.allowSelfApproval))) {
    return refuse(
      'no-approvers',
      `${rule}.approval.tiers`,
      'nobody but you could approve this request, and this flow does not allow self-approval',
    );
  }

  let breakGlassSpec: BreakGlassSpec | undefined;
  if (breakGlass) {
    const ratifiers = resolveTier({ approvers: breakGlass.ratifiers, threshold: { kind: 'any' } }, owner, integration);
    if (!ratifiers.some((ratifier) => !(ratifier.kind === 'user' && ratifier.id === identity.id))) {
      return refuse(
        'no-approvers',
        `${rule}.breakGlass.ratifiers`,
        'nobody but you could ratify this break-glass access',
      );
    }
    breakGlassSpec = { ratifyWithinMs: breakGlass.ratifyWithinMs, ratifiers, onNotRatified: breakGlass.onNotRatified };
  }

  const resourceSnapshot: ResourceSnapshot = {
    id: resource.id,
    name: resource.name,
    type: resource.type,
    vaultId: resource.vaultId,
    ...(resource.itemId !== undefined ? { itemId: resource.itemId } : {}),
    ...(owner ? { owner } : {}),
  };
  return {
    ok: true,
    snapshot: {
      policyVersion: policy.version,
      flowName: flow.name,
      integration: {
        name: integration.name,
        kind: integration.kind,
        ...(integration.accessDetails !== undefined ? { accessDetails: integration.accessDetails } : {}),
      },
      resource: resourceSnapshot,
      grant: grant.spec,
      approval: { automatic: flow.automatic, tiers, allowSelfApproval: flow.allowSelfApproval },
      durationMs,
      maxDurationMs: flow.duration.maxMs,
      pendingTimeoutMs: flow.pendingTimeoutMs,
      ...(flow.reminderIntervalMs !== undefined ? { reminderIntervalMs: flow.reminderIntervalMs } : {}),
      revokeAlertAfterMs: flow.revokeAlertAfterMs,
      extensions: { ...flow.extensions },
      notify: { ...flow.notify, channels: [...flow.notify.channels] },
      ...(breakGlassSpec ? { breakGlass: breakGlassSpec } : {}),
    },
  };
}

function grantSpec(
  policy: LoadedPolicy,
  resource: ResolvedResource,
  identity: Identity,
  catalog: ResourceCatalog,
): { ok: true; spec: GrantSpec } | { ok: false; evaluation: Evaluation } {
  const definition = resource.definition;
  if (definition.type === 'database-role') {
    const { target, vaultId, memberOf, connectionLimit } = definition;
    return { ok: true, spec: { mode: 'database-role', target, vaultId, memberOf: [...memberOf], connectionLimit } };
  }
  if (definition.type !== 'vault') {
    const rotator = definition.rotator && rotatorSpec(policy, definition.rotator);
    return {
      ok: true,
      spec: {
        mode: 'share-link',
        vaultId: resource.vaultId,
        itemId: resource.itemId!,
        oneTimeView: true,
        rotateOnRevoke: resource.grant === 'rotate-on-revoke',
        ...(rotator && { rotator }),
      },
    };
  }
  const rule = `resources.${resource.id}`;
  const vault = catalog.vaults.find(
    (candidate) => candidate.integration === resource.integration && candidate.vaultId === resource.vaultId,
  );
  // 1Password lets a service account manage group permissions only on vaults it created.
  if (vault && !vault.createdByServiceAccount) {
    return {
      ok: false,
      evaluation: refuse(
        'grant-mode-unavailable',
        rule,
        `vault "${resource.id}" was not created by latchkey's service account, so 1Password does not let it grant access`,
      ),
    };
  }
  const groupId = identity.groups
    .map((group) => definition.groups.find((mapping) => mapping.identityGroup === group)?.onePasswordGroup)
    .find((mapped) => mapped !== undefined);
  if (groupId === undefined) {
    return {
      ok: false,
      evaluation: refuse(
        'grant-mode-unavailable',
        `${rule}.groups`,
        `none of your groups is mapped to a 1Password group for "${resource.id}"`,
      ),
    };
  }
  const group = catalogGroup(catalog, resource.integration, groupId);
  return {
    ok: true,
    spec: {
      mode: 'vault-group',
      vaultId: resource.vaultId,
      groupId,
      ...(group && { groupTitle: group.title, groupType: group.type }),
      permissions: [...definition.permissions],
    },
  };
}

/** What this identity may request, each with the flow that would decide it (same choice as evaluateRequest). */
export function requestableResources(
  policy: LoadedPolicy,
  catalog: ResourceCatalog,
  identity: Identity,
): RequestableResource[] {
  return resolveResources(policy, catalog).flatMap((resource): RequestableResource[] => {
    const flow = chooseFlow(policy, resource, identity);
    if (!flow) return [];
    const integration = integrationOf(policy, resource.integration);
    const owner = resourceOwner(integration, resource);
    return [
      {
        id: resource.id,
        name: resource.name,
        type: resource.type,
        integration: resource.integration,
        grantMode: resource.grant,
        flow: {
          name: flow.name,
          automatic: flow.automatic,
          maxDuration: formatIsoDuration(flow.duration.maxMs),
          defaultDuration: formatIsoDuration(flow.duration.defaultMs),
          justificationRequired: flow.justification.required,
          ticketRequired: flow.ticket.required,
          approvers: flow.automatic ? [] : flow.tiers.map((tier) => resolveTier(tier, owner, integration)),
          ...(flow.breakGlass && {
            breakGlass: {
              maxDuration: formatIsoDuration(flow.breakGlass.maxDurationMs),
              ratifyWithin: formatIsoDuration(flow.breakGlass.ratifyWithinMs),
              ratifiers: resolveTier(
                { approvers: flow.breakGlass.ratifiers, threshold: { kind: 'any' } },
                owner,
                integration,
              ),
              onNotRatified: flow.breakGlass.onNotRatified,
            },
          }),
        },
        ...(integration.accessDetails !== undefined ? { accessDetails: integration.accessDetails } : {}),
        ...(resource.definition.type === 'vault' && {
          reaches: resource.definition.groups.map(({ identityGroup, onePasswordGroup }) => {
            const group = catalogGroup(catalog, resource.integration, onePasswordGroup);
            return { identityGroup, groupId: onePasswordGroup, ...(group && { title: group.title, type: group.type }) };
          }),
        }),
      },
    ];
  });
}

/** The policy's rotator, with the target's kind that the worker needs to pick its adapter. */
function rotatorSpec(policy: LoadedPolicy, rotator: RotatorPolicy): RotatorSpec {
  if (rotator.kind === 'none') return { kind: 'none' };
  const target = policy.targets.find((candidate) => candidate.name === rotator.target)!;
  return target.kind === 'postgres'
    ? { kind: 'postgres', target: target.name, role: rotator.role!, endSessions: rotator.endSessions }
    : { kind: 'command', target: target.name };
}

function catalogGroup(catalog: ResourceCatalog, integration: string, groupId: string): CatalogGroup | undefined {
  return catalog.groups?.find((group) => group.integration === integration && group.groupId === groupId);
}

/** The integrations a worker must connect to; token files are absolute (resolved against the policy file). */
export function integrationsOf(policy: LoadedPolicy): Array<{
  name: string;
  kind: IntegrationKind;
  plan: OnePasswordPlan;
  serviceAccount: string;
  token?: TokenSource;
  reconcile: 'repair' | 'report';
}> {
  return policy.integrations.map((integration) => ({
    name: integration.name,
    kind: integration.kind,
    plan: integration.plan,
    serviceAccount: integration.serviceAccount,
    ...(integration.token ? { token: { ...integration.token } } : {}),
    reconcile: integration.reconcile,
  }));
}
