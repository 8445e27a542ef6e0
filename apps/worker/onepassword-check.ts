import { checkOnePasswordIntegration, type OnePasswordCheckReport } from '../../onepassword/check';
import { type LoadedPolicy } from '../../policy';
import type { WorkerPorts } from './ports';

/** Checks one integration of the policy against its 1Password, through the worker's own port for it. */
export function checkIntegration(
  policy: LoadedPolicy,
  ports: WorkerPorts,
  integration: string,
): Promise<OnePasswordCheckReport> {
  const definition = policy.integrations.find((candidate) => candidate.name === integration);
  if (!definition) throw new Error(`the policy defines no integration "${integration}"`);
  const resources = policy.resources.filter((resource) => resource.integration === integration);
  return checkOnePasswordIntegration(ports.forIntegration(integration), integration, definition.plan, resources);
}

/** The report for a person: what the service account sees and can do, then what it cannot serve. */
export function describeCheck(report: OnePasswordCheckReport): string[] {
  const lines = [`integration ${report.integration} (1Password ${report.plan})`];
  if (report.signedIn) {
    const used = report.vaults.filter((vault) => vault.usedByPolicy);
    lines.push(`  vaults it sees: ${report.vaults.length} (${used.length} named by the policy)`);
    for (const vault of report.vaults) {
      lines.push(`    ${vault.id}  ${vault.title}${vault.usedByPolicy ? '  (policy)' : ''}`);
    }
    for (const vault of report.managedVaults) {
      lines.push(
        `  vault ${vault.id}: ${vault.manageable ? 'manages its group permissions (a vault it created)' : 'cannot manage its group permissions'}`,
      );
    }
    for (const item of report.sharedItems) {
      const policy = item.policy;
      lines.push(
        `  ${item.resource} (${item.itemId}): share links up to ${policy?.maxExpiry ?? '?'}, to ${policy?.allowedTypes.join(' or ') ?? '?'} recipients${policy?.oneTimeOnly ? ', one view only' : ''}${item.hasFiles ? `, has files (${policy?.filesAllowed ? 'sharable' : 'not sharable'})` : ''}`,
      );
    }
    for (const group of report.groups) {
      lines.push(
        `  ${group.resource}: ${group.identityGroup} -> 1Password group ${group.title ? `"${group.title}" ` : ''}${group.id}${group.type ? ` (${group.type})` : ''}: a grant reaches every member of it`,
      );
    }
    lines.push('  may create vaults: unknown (the SDK cannot tell without creating one)');
  }
  if (report.findings.length === 0) lines.push('  nothing in the policy it cannot serve');
  for (const finding of report.findings) lines.push(`  ${finding.severity}: ${finding.subject}: ${finding.message}`);
  return lines;
}
