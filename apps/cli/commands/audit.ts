import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { LatchkeyConfig } from '../../../config/config';
import { temporalConnectionOptions } from '../../../config/temporal-connection';
import { requestIdFromWorkflowId } from '../../../domain/ids';
import { createDataConverter, loadCodecKeyring } from '../../../codec';
import { ChainWriter, verifyChain } from '../../../audit/chain';
import { checkDecisions, type DecisionTally, type TimelineRecord } from '../../../audit/decisions';
import { auditChainSigner, auditPublicKeySet, loadAuditSigningKey } from '../../../audit/signing-key';
import { readTrustedCommandKeys } from '../../../trust/command-keys';
import { buildAuditTimeline } from '../../../audit/timeline';
import { payloadDecoder } from '../../../codec/payload-decoder';
import type { CommandIo } from '../io';

const HELP = `latchkey audit: tamper-evident exports of request histories

  audit export [--since ISO-8601] [--query Q] [--out FILE]
      writes, for every access request found, its raw history (payloads stay encrypted) and its
      decoded timeline as JSON Lines (a file of mode 0600), each record chained to the previous one
      by a hash and signed with the audit key, closed by a signed head record
  audit verify FILE --keys JWKS [--keys JWKS ...]
      checks the chain and its signatures against the audit key, and every decision's signed command
      against the API's command keys (JWK Sets); reports the first deleted, reordered or edited record
  audit public-key
      prints the audit key's public half as a JWK Set, for auditors`;

export async function runAuditCommand(argv: string[], io: CommandIo, config: LatchkeyConfig): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'export') return exportAudit(rest, io, config);
  if (verb === 'verify') return verifyAudit(rest, io);
  if (verb === 'public-key') return printPublicKey(io, config);
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
  const keyring = await loadCodecKeyring(config.codec);
  const signer = auditChainSigner(auditSigningKey(config));
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  // The export holds every decision and justification: readable by its owner only.
  const out = values.out ? fs.createWriteStream(values.out, { flags: 'wx', mode: 0o600 }) : undefined;
  const write = (line: string) => (out ? out.write(`${line}\n`) : io.out(line));
  try {
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: createDataConverter(keyring),
    });
    const decode = payloadDecoder(client);
    const chain = new ChainWriter<Record<string, unknown>>(signer);
    let requests = 0;
    for await (const execution of client.workflow.list({ query })) {
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      const requestId = requestIdFromWorkflowId(execution.workflowId) ?? execution.workflowId;
      const base = { requestId, workflowId: execution.workflowId, runId: execution.runId };
      write(chain.line({ type: 'history', ...base, history: JSON.parse(historyToJSON(history)) as unknown }));
      write(chain.line({ type: 'timeline', ...base, entries: await buildAuditTimeline(history.events ?? [], decode) }));
      requests += 1;
    }
    write(chain.headLine());
    io.err(
      `exported ${requests} requests (${requests * 2} records)${values.out ? ` to ${values.out}` : ''}, ` +
        `signed with audit key ${signer.keyId}`,
    );
    return 0;
  } finally {
    if (out)
      await new Promise<void>((resolve, reject) =>
        out.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
    await connection.close();
  }
}

/** Made on first use in local mode only: elsewhere the key is provisioned, and a missing one is an error. */
function auditSigningKey(config: LatchkeyConfig) {
  return loadAuditSigningKey(config.audit.signingKeyFile, { create: config.auth.mode === 'local' });
}

function printPublicKey(io: CommandIo, config: LatchkeyConfig): number {
  io.out(JSON.stringify(auditPublicKeySet(auditSigningKey(config)), null, 2));
  return 0;
}

async function verifyAudit(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { keys: { type: 'string', multiple: true } },
    allowPositionals: true,
    strict: true,
  });
  const [file] = positionals;
  if (!file || !values.keys?.length) {
    io.err('usage: latchkey audit verify FILE --keys JWKS [--keys JWKS ...]');
    return 2;
  }
  // One set of public keys: the audit key that signs the export and the API keys that sign commands.
  // Each signature is over a differently labelled input, so one kind can never pass for the other.
  const keys = Object.assign({}, ...values.keys.map((set) => readTrustedCommandKeys(set))) as Record<string, string>;
  const lines: string[] = [];
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    lines.push(line);
  }
  const tally: DecisionTally = { signed: 0, unsigned: 0 };
  const verdict = verifyChain(lines, keys, (record) => {
    const timeline = record as Partial<TimelineRecord> & { type?: unknown };
    if (timeline.type !== 'timeline') return undefined;
    if (typeof timeline.workflowId !== 'string' || !Array.isArray(timeline.entries)) return 'a malformed timeline';
    const refusal = checkDecisions(timeline as TimelineRecord, keys, tally);
    return refusal && `a decision does not verify: ${refusal}`;
  });
  if (verdict.ok) {
    io.out(
      `ok: ${verdict.records} records, chain intact, head signed by ${verdict.keyIds.join(', ')}, ` +
        `last hash ${verdict.lastHash}; decisions: ${tally.signed} signed and verified, ` +
        `${tally.unsigned} unsigned (recorded before signed commands)`,
    );
    return 0;
  }
  io.out(`TAMPERED: line ${verdict.line}: ${verdict.reason} (${verdict.records} records verified before it)`);
  return 1;
}
