import * as fs from 'node:fs';
import type { HistoryAndWorkflowId } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';

/**
 * Reads workflow histories from a file: either one history as the Temporal CLI and UI export it
 * (`{ "events": [...] }`, optionally with a `workflowId`), or an audit export (JSON Lines whose
 * records of type `history` carry `workflowId` and `history`).
 */
export function readHistoryFile(file: string): HistoryAndWorkflowId[] {
  const text = fs.readFileSync(file, 'utf8');
  const single = parseWhole(text);
  if (single && !('record' in single)) {
    return [{ workflowId: single.workflowId ?? 'from-file', history: historyFromJSON(single.history ?? single) }];
  }
  const histories: HistoryAndWorkflowId[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line) as { record?: { type?: string; workflowId?: string; history?: unknown } };
    if (entry.record?.type === 'history' && entry.record.workflowId) {
      histories.push({ workflowId: entry.record.workflowId, history: historyFromJSON(entry.record.history) });
    }
  }
  return histories;
}

/** The whole file as one JSON document, or undefined when it is JSON Lines. */
function parseWhole(text: string): { workflowId?: string; history?: unknown } | undefined {
  try {
    return JSON.parse(text) as { workflowId?: string; history?: unknown };
  } catch {
    return undefined;
  }
}
