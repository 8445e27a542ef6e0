import type { OnePasswordPlan } from '../domain/vault-permissions';
import { classifyOnePasswordError } from './errors';
import type { OnePasswordPort, SharePolicy } from './port';

/**
 * What an integration's service account can do, against what the policy asks of it: the check behind
 * `latchkey onepassword check` and the worker's start. Every answer comes from 1Password through the
 * port (reads only); what the SDK cannot tell is said to be unknown rather than guessed.
 */

/** A resource of the policy, as far as the check needs it (structurally, a policy resource). */
export interface CheckedResource {
  type: 'item' | 'vault' | 'selection' | 'database-role';
  id?: string;
  idPrefix?: string;
  vaultId: string;
  itemId?: string;
  tags?: string[];
  grant: string;
  groups?: Array<{ identityGroup: string; onePasswordGroup: string; groupType?: string }>;
}

export type FindingSeverity = 'error' | 'warning';

/** Adds a finding to the report being made. */
type Finder = (severity: FindingSeverity, subject: string, message: string) => void;

export interface CheckFinding {
  severity: FindingSeverity;
  /** The policy resource (or `integration`) the finding is about. */
  subject: string;
  message: string;
}

export interface OnePasswordCheckReport {
  integration: string;
  plan: OnePasswordPlan;
  /** False when the service account could not even list its vaults. */
  signedIn: boolean;
  vaults: Array<{ id: string; title: string; usedByPolicy: boolean }>;
  /** Vaults whose group permissions the service account can read, which 1Password allows on vaults it created. */
  managedVaults: Array<{ id: string; manageable: boolean }>;
  sharedItems: Array<{ resource: string; vaultId: string; itemId: string; policy?: SharePolicy; hasFiles?: boolean }>;
  /** Whom each vault-group grant reaches: every member of these 1Password groups. */
  groups: Array<{ resource: string; identityGroup: string; id: string; title?: string; type?: string }>;
  /** SDK 0.5.0 cannot tell without creating a vault. */
  canCreateVaults: 'unknown';
  findings: CheckFinding[];
}

const BUILT_IN_TYPES = new Set(['owners', 'administrators', 'teamMembers']);

function nameOf(resource: CheckedResource): string {
  return resource.id ?? `${resource.idPrefix}-*`;
}

/** Whether the integration cannot work at all (as opposed to some resources not being servable). */
export function integrationUnusable(report: OnePasswordCheckReport): boolean {
  return report.findings.some((finding) => finding.severity === 'error' && finding.subject === 'integration');
}

export async function checkOnePasswordIntegration(
  port: OnePasswordPort,
  integration: string,
  plan: OnePasswordPlan,
  resources: CheckedResource[],
): Promise<OnePasswordCheckReport> {
  const report: OnePasswordCheckReport = {
    integration,
    plan,
    signedIn: false,
    vaults: [],
    managedVaults: [],
    sharedItems: [],
    groups: [],
    canCreateVaults: 'unknown',
    findings: [],
  };
  const finding: Finder = (severity, subject, message) => report.findings.push({ severity, subject, message });

  let visible: Awaited<ReturnType<OnePasswordPort['listVaults']>>;
  try {
    visible = await port.listVaults();
  } catch (error) {
    const classified = classifyOnePasswordError(error);
    // Only a definite refusal makes the integration unusable; an outage says nothing about it.
    const definite = ['auth', 'forbidden', 'invalid-argument'].includes(classified.kind);
    finding(definite ? 'error' : 'warning', 'integration', `cannot list vaults: ${classified.message}`);
    return report;
  }
  report.signedIn = true;
  const policyVaults = new Set(resources.map((resource) => resource.vaultId));
  report.vaults = visible.map((vault) => ({
    id: vault.id,
    title: vault.title,
    usedByPolicy: policyVaults.has(vault.id),
  }));
  const visibleIds = new Set(visible.map((vault) => vault.id));
  if (resources.length > 0 && !resources.some((resource) => visibleIds.has(resource.vaultId))) {
    finding('error', 'integration', 'the service account sees none of the vaults the policy names');
  }

  for (const resource of resources) {
    const subject = nameOf(resource);
    if (!visibleIds.has(resource.vaultId)) {
      finding('error', subject, `vault ${resource.vaultId} is not visible to the service account`);
      continue;
    }
    try {
      if (resource.type === 'vault') await checkVaultGrant(port, resource, plan, report, finding);
      else if (resource.type === 'item') await checkItem(port, resource, resource.itemId!, report, finding);
      // A visible vault is all a login's item needs; whether the service account may write there, only a write tells.
      else if (resource.type === 'database-role') continue;
      else {
        const items = await port.listItems(resource.vaultId);
        const selected = items.filter((item) => (resource.tags ?? []).every((tag) => item.tags.includes(tag)));
        if (selected.length === 0) finding('warning', subject, 'selects no item today');
        for (const item of selected) await checkItem(port, resource, item.id, report, finding);
      }
    } catch (error) {
      finding('error', subject, classifyOnePasswordError(error).message);
    }
  }
  return report;
}

async function checkItem(
  port: OnePasswordPort,
  resource: CheckedResource,
  itemId: string,
  report: OnePasswordCheckReport,
  finding: Finder,
): Promise<void> {
  const subject = nameOf(resource);
  let item;
  try {
    item = await port.getItem(resource.vaultId, itemId);
  } catch (error) {
    finding('error', subject, `item ${itemId}: ${classifyOnePasswordError(error).message}`);
    return;
  }
  if (resource.grant !== 'share-link') return;
  const policy = await port.getSharePolicy(resource.vaultId, itemId);
  report.sharedItems.push({ resource: subject, vaultId: resource.vaultId, itemId, policy, hasFiles: item.hasFiles });
  if (!policy.allowedTypes.includes('authenticated')) {
    finding('error', subject, 'the account sharing policy allows no link to a named e-mail address');
  }
  if (item.hasFiles && !policy.filesAllowed) {
    finding('error', subject, `item ${itemId} has files, and the account sharing policy forbids sharing them`);
  }
}

async function checkVaultGrant(
  port: OnePasswordPort,
  resource: CheckedResource,
  plan: OnePasswordPlan,
  report: OnePasswordCheckReport,
  finding: Finder,
): Promise<void> {
  const subject = nameOf(resource);
  try {
    await port.listGroupPermissions(resource.vaultId);
    report.managedVaults.push({ id: resource.vaultId, manageable: true });
  } catch (error) {
    report.managedVaults.push({ id: resource.vaultId, manageable: false });
    finding(
      'error',
      subject,
      `cannot manage group permissions on vault ${resource.vaultId} (1Password allows it only on vaults the service account created): ${classifyOnePasswordError(error).message}`,
    );
  }
  for (const mapping of resource.groups ?? []) {
    try {
      const group = await port.describeGroup(mapping.onePasswordGroup);
      report.groups.push({ resource: subject, identityGroup: mapping.identityGroup, ...group });
      if (mapping.groupType !== undefined && mapping.groupType !== group.type) {
        finding(
          'error',
          subject,
          `group ${group.id} is of type ${group.type}, not ${mapping.groupType} as the policy says`,
        );
      }
      if (plan === 'teams' && !BUILT_IN_TYPES.has(group.type)) {
        finding('error', subject, `group ${group.id} is not a built-in group, which a Teams account cannot have`);
      }
    } catch (error) {
      report.groups.push({ resource: subject, identityGroup: mapping.identityGroup, id: mapping.onePasswordGroup });
      finding('error', subject, `group ${mapping.onePasswordGroup}: ${classifyOnePasswordError(error).message}`);
    }
  }
}
