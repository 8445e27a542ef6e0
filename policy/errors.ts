/** One problem in a policy file, located precisely enough for an editor to jump to it. */
export interface PolicyIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Key path in the document, e.g. `flows[0].approval.tiers[1].threshold`; empty for the whole file. */
  path: string;
  message: string;
}

export function formatIssue(issue: PolicyIssue): string {
  return `${issue.file}:${issue.line}:${issue.column} ${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
}

/** A policy that cannot be used. The message lists every issue, one per line. */
export class PolicyError extends Error {
  constructor(readonly issues: PolicyIssue[]) {
    super(
      `policy is invalid (${issues.length} issue${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  ${formatIssue(issue)}`).join('\n'),
    );
    this.name = 'PolicyError';
  }
}
