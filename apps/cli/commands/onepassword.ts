import { parseArgs } from 'node:util';
import type { LatchkeyConfig } from '../../../config/config';
import { loadPolicyFile } from '../../../policy';
import { checkIntegration, describeCheck } from '../../worker/onepassword-check';
import { createWorkerPorts } from '../../worker/ports';
import type { CommandIo } from '../io';

const HELP = `latchkey onepassword check [--integration NAME] [--json]

Signs in with each integration's token (or only NAME's), as the worker does, and reports what its service
account can do: the vaults it sees, which of the policy's vaults it manages, the sharing policy of each shared
item, whom each vault-group grant reaches; then what in the policy it cannot serve.
Reads only. Exit code 0 when everything can be served, 1 when something cannot.`;

export async function runOnePasswordCommand(argv: string[], io: CommandIo, config: LatchkeyConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { integration: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help || positionals[0] !== 'check' || positionals.length > 1) {
    io.out(HELP);
    return values.help ? 0 : 2;
  }
  const policy = loadPolicyFile(config.policyFile);
  const names = values.integration ? [values.integration] : policy.integrations.map((integration) => integration.name);
  const ports = createWorkerPorts(policy, config);
  const reports = [];
  try {
    for (const name of names) reports.push(await checkIntegration(policy, ports, name));
  } finally {
    await ports.close();
  }
  if (values.json) io.out(JSON.stringify(reports, null, 2));
  else for (const report of reports) for (const line of describeCheck(report)) io.out(line);
  return reports.some((report) => report.findings.some((finding) => finding.severity === 'error')) ? 1 : 0;
}
