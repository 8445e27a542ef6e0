import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { LatchkeyConfig } from '../../../config/config';
import { temporalConnectionOptions } from '../../../config/temporal-connection';
import { CATALOG_WORKFLOW_ID, catalogQuery, type ResourceCatalog } from '../../../contracts/catalog';
import type { AccessRequestInput } from '../../../contracts/request';
import { SA_STATUS } from '../../../contracts/search-attributes';
import { parseIsoDuration } from '../../../domain/duration';
import { requestIdFromWorkflowId } from '../../../domain/ids';
import { createDataConverter, loadCodecKeyring } from '../../../codec';
import { payloadDecoder } from '../../../codec/payload-decoder';
import { type LoadedPolicy, loadPolicyFile, type Simulation, simulateRequest } from '../../../policy';
import type { CommandIo } from '../io';

export const SIMULATE_HELP = `  policy simulate --policy NEW.yaml [--since 30d | --since ISO-8601] [--query Q] [--json]
                  [--fail-on refused|changed|never]
      Tries a policy change on history: every access request recorded in Temporal (started within
      --since, default 30d, narrowed by a visibility query) is asked again, by the same person with
      the groups they had, under NEW.yaml. Prints what would change: refused (and the rule), another
      flow, other approvers, another maximum. Exit 1 when a request would be refused (--fail-on
      changed: also when one would change; never: always 0), 0 otherwise, 2 on bad input.`;

interface SimulatedRequest {
  requestId: string;
  requesterId: string;
  resourceId: string;
  flowName: string;
  startedAt: string;
  status?: string;
  simulation: Simulation;
}

/** `30d`, `12h`, `45m`, an ISO 8601 duration (`P30D`) or an ISO 8601 instant: the earliest start to read. */
export function sinceInstant(since: string, nowMs = Date.now()): Date {
  const short = /^(\d+)([dhm])$/.exec(since);
  if (short) return new Date(nowMs - Number(short[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[short[2]]!);
  if (since.startsWith('P')) return new Date(nowMs - parseIsoDuration(since));
  const at = new Date(since);
  if (Number.isNaN(at.getTime()))
    throw new Error(`--since must be like 30d, P30D or an ISO 8601 instant, got "${since}"`);
  return at;
}

export async function simulatePolicy(argv: string[], io: CommandIo, config: LatchkeyConfig): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      policy: { type: 'string' },
      since: { type: 'string', default: '30d' },
      query: { type: 'string' },
      json: { type: 'boolean', default: false },
      'fail-on': { type: 'string', default: 'refused' },
    },
    strict: true,
  });
  const failOn = values['fail-on'];
  if (!values.policy || !['refused', 'changed', 'never'].includes(failOn)) {
    io.err(`policy simulate needs --policy FILE, and --fail-on is refused, changed or never\n\n${SIMULATE_HELP}`);
    return 2;
  }
  let since: Date;
  try {
    since = sinceInstant(values.since);
  } catch (error) {
    io.err((error as Error).message);
    return 2;
  }
  const policy = loadPolicyFile(values.policy);
  const clauses = [
    `WorkflowType = 'accessRequestWorkflow'`,
    `TaskQueue = '${config.temporal.taskQueue}'`,
    `StartTime >= '${since.toISOString()}'`,
  ];
  if (values.query) clauses.push(`(${values.query})`);

  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  try {
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: createDataConverter(await loadCodecKeyring(config.codec)),
    });
    const catalog = await readCatalog(client);
    if (!catalog) {
      io.err('the resource catalog is not available: is a latchkey worker running on this namespace?');
      return 2;
    }
    const results = await simulateHistory(client, clauses.join(' AND '), policy, catalog);
    const totals = {
      requests: results.length,
      refused: results.filter((result) => result.simulation.outcome === 'refused').length,
      changed: results.filter((result) => result.simulation.outcome === 'changed').length,
    };
    if (values.json) {
      io.out(
        JSON.stringify({ policy: { file: policy.file, version: policy.version }, since, totals, requests: results }),
      );
    } else {
      io.out(table(results, since, totals));
    }
    if (failOn === 'never') return 0;
    return totals.refused > 0 || (failOn === 'changed' && totals.changed > 0) ? 1 : 0;
  } finally {
    await connection.close();
  }
}

async function readCatalog(client: Client): Promise<ResourceCatalog | undefined> {
  try {
    return await client.workflow.getHandle(CATALOG_WORKFLOW_ID).query(catalogQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/** Each request's recorded input (its first history event, decrypted by the codec), simulated in start order. */
async function simulateHistory(
  client: Client,
  query: string,
  policy: LoadedPolicy,
  catalog: ResourceCatalog,
): Promise<SimulatedRequest[]> {
  const decode = payloadDecoder(client);
  const results: SimulatedRequest[] = [];
  for await (const execution of client.workflow.list({ query })) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const [input] = (await decode(started?.input?.payloads)) as [AccessRequestInput | undefined];
    if (!input?.snapshot) continue;
    results.push({
      requestId: requestIdFromWorkflowId(execution.workflowId) ?? input.requestId,
      requesterId: input.requester.id,
      resourceId: input.snapshot.resource.id,
      flowName: input.snapshot.flowName,
      startedAt: execution.startTime.toISOString(),
      status: execution.typedSearchAttributes.get(SA_STATUS),
      simulation: simulateRequest(policy, catalog, input),
    });
  }
  return results.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

function table(
  results: SimulatedRequest[],
  since: Date,
  totals: { requests: number; refused: number; changed: number },
): string {
  const rows = results
    .filter((result) => result.simulation.outcome !== 'unchanged')
    .map((result) => [result.requestId, result.requesterId, result.resourceId, verdict(result.simulation)]);
  const header = ['request', 'requester', 'resource', 'under the new policy'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  const unchanged = totals.requests - totals.refused - totals.changed;
  const summary = `${totals.requests} request${totals.requests === 1 ? '' : 's'} since ${since.toISOString()}: ${totals.refused} refused, ${totals.changed} changed, ${unchanged} unchanged`;
  return rows.length > 0 ? [line(header), ...rows.map(line), '', summary].join('\n') : summary;
}

function verdict(simulation: Simulation): string {
  if (simulation.outcome === 'refused') {
    const { code, rule, message } = simulation.refusal;
    return `refused: ${code} (${rule}): ${message}`;
  }
  return simulation.outcome === 'changed' ? simulation.changes.join('; ') : 'unchanged';
}
