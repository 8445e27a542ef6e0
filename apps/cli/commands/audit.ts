import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { LatchkeyConfig } from '../../../config/config';
import { temporalConnectionOptions } from '../../../config/temporal-connection';
import { requestIdFromWorkflowId } from '../../../domain/ids';
import { createDataConverter, loadOrCreateCodecKey } from '../../../codec';
import { ChainWriter, verifyChain } from '../../../audit/chain';
import { buildAuditTimeline } from '../../../audit/timeline';
import { payloadDecoder } from '../../../codec/payload-decoder';
import type { CommandIo } from '../io';

const HELP = `latchkey audit: tamper-evident exports of request histories

  audit export [--since ISO-8601] [--query Q] [--out FILE]
      writes, for every access request found, its raw history (payloads stay encrypted) and its
      decoded timeline as JSON Lines, each record chained to the previous one by a hash
  audit verify FILE
      checks the chain; reports the first deleted, reordered or edited record`;

export async function runAuditCommand(argv: string[], io: CommandIo, config: LatchkeyConfig): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'export') return exportAudit(rest, io, config);
  if (verb === 'verify') return verifyAudit(rest, io);
  io.err(HELP);
  return verb === '--help' ? 0 : 2;
}

/** Access requests only; an operator's own visibility query narrows it further. */
export function exportQuery(since?: string, query?: string): string {
  const clauses = [`WorkflowType = 'accessRequestWorkflow'`];
  if (since !== undefined) {
    const at = new Date(since);
    if (Number.isNaN(at.getTime())) throw new Error(`--since must be an ISO 8601 instant, got "${since}"`);
    clauses.push(`StartTime >= '${at.toISOString()}'`);
  }
  if (query) clauses.push(`(${query})`);
  return clauses.join(' AND ');
}

async function exportAudit(argv: string[], io: CommandIo, config: LatchkeyConfig): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { since: { type: 'string' }, query: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  });
  const query = exportQuery(values.since, values.query);
  const key = await loadOrCreateCodecKey(config.codec.keyFile, config.codec.keyId);
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  const out = values.out ? fs.createWriteStream(values.out, { flags: 'wx' }) : undefined;
  const write = (line: string) => (out ? out.write(`${line}\n`) : io.out(line));
  try {
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: createDataConverter(key),
    });
    const decode = payloadDecoder(client);
    const chain = new ChainWriter<Record<string, unknown>>();
    let requests = 0;
    for await (const execution of client.workflow.list({ query })) {
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      const requestId = requestIdFromWorkflowId(execution.workflowId) ?? execution.workflowId;
      const base = { requestId, workflowId: execution.workflowId, runId: execution.runId };
      write(chain.line({ type: 'history', ...base, history: JSON.parse(historyToJSON(history)) as unknown }));
      write(chain.line({ type: 'timeline', ...base, entries: await buildAuditTimeline(history.events ?? [], decode) }));
      requests += 1;
    }
    io.err(`exported ${requests} requests (${requests * 2} records)${values.out ? ` to ${values.out}` : ''}`);
    return 0;
  } finally {
    if (out)
      await new Promise<void>((resolve, reject) =>
        out.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
    await connection.close();
  }
}

async function verifyAudit(argv: string[], io: CommandIo): Promise<number> {
  const [file] = argv;
  if (!file) {
    io.err('usage: latchkey audit verify FILE');
    return 2;
  }
  const lines: string[] = [];
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    lines.push(line);
  }
  const verdict = verifyChain(lines);
  if (verdict.ok) {
    io.out(`ok: ${verdict.records} records, chain intact, last hash ${verdict.lastHash}`);
    return 0;
  }
  io.out(`TAMPERED: line ${verdict.line}: ${verdict.reason} (${verdict.records} records verified before it)`);
  return 1;
}
