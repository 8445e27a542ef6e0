import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { LatchkeyConfig } from '../../../config/config';
import { temporalConnectionOptions } from '../../../config/temporal-connection';
import { createDataConverter, loadCodecKeyring } from '../../../codec';
import type { Drift, ReconcileReport } from '../../../contracts/reconcile';
import { reconcileWorkflow } from '../../../workflows/reconcile';
import type { CommandIo } from '../io';

const HELP = `latchkey reconcile: compare what 1Password grants on every managed vault with the active grants

  --dry-run   name the differences, change nothing
  --json      print the report as JSON

Runs one pass of the reconciler on the worker (which holds the 1Password tokens): a group permission no
active grant explains is removed (unless its integration is set to reconcile: report); active grants whose
permission is missing, and permissions beyond what the grants need, are reported.
Exit code 0 when nothing differs, 1 when something does.`;

export async function runReconcileCommand(argv: string[], io: CommandIo, config: LatchkeyConfig): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const dryRun = values['dry-run'] ?? false;
  const dataConverter = createDataConverter(await loadCodecKeyring(config.codec));
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  let report: ReconcileReport;
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
    report = await client.workflow.execute(reconcileWorkflow, {
      args: [{ dryRun }],
      workflowId: `Reconcile-cli-${new Date().toISOString()}`,
      taskQueue: config.temporal.taskQueue,
      staticSummary: `Reconcile by hand${dryRun ? ' (dry run)' : ''}`,
    });
  } finally {
    await connection.close();
  }
  if (values.json) io.out(JSON.stringify(report, null, 2));
  else for (const line of describeReport(report)) io.out(line);
  return report.drifts.length === 0 ? 0 : 1;
}

const ACTION_WORDS: Record<Drift['action'], string> = {
  removed: 'removed',
  rotated: 'secret rotated',
  'would-remove': 'would remove (dry run)',
  'would-rotate': 'would rotate the secret (dry run)',
  reported: 'reported',
  failed: 'not repaired yet: not confirmed in time (the next pass tries again)',
};

/** A database login is dropped, not rotated. */
const LOGIN_ACTION_WORDS: Partial<Record<Drift['action'], string>> = {
  rotated: 'login dropped and its item deleted',
  'would-rotate': 'would drop the login (dry run)',
};

export function describeReport(report: ReconcileReport): string[] {
  const lines = report.drifts.map((drift) => {
    const what = drift.loginRole
      ? `${drift.integration}: database login ${drift.loginRole}, its item in vault ${drift.vaultId}`
      : drift.itemId
        ? `${drift.integration}: item ${drift.itemId} in vault ${drift.vaultId}`
        : `${drift.integration}: group ${drift.groupId} on vault ${drift.vaultId} [${drift.permissions.join(', ')}]`;
    const requests = drift.requestIds.length > 0 ? ` (requests ${drift.requestIds.join(', ')})` : '';
    const action = drift.loginRole ? LOGIN_ACTION_WORDS[drift.action] : undefined;
    return `${drift.kind.padEnd(11)} ${what}${requests}: ${action ?? ACTION_WORDS[drift.action]}`;
  });
  const summary = `${report.vaultsRead} managed vault(s) read, ${report.activeGrants} active grant(s), ${report.drifts.length} difference(s)`;
  return [...lines, summary];
}
