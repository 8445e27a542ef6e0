import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/** Committed workflow histories, one per lifecycle path, replayed by `workflows/*.replay.spec.ts`. */
export const HISTORY_FIXTURE_DIR = path.resolve(__dirname, '../../workflows/__fixtures__/histories');

/**
 * Re-recording: `LATCHKEY_RECORD_HISTORIES=1 npx jest --selectProjects integration workflows/`.
 * The time-skipping tests then write the history of each path they drive (payloads encrypted with the
 * test-only codec key). Without the variable the tests only read the history, so a normal run never
 * changes the committed fixtures.
 */
export function recordingHistories(): boolean {
  return process.env.LATCHKEY_RECORD_HISTORIES === '1';
}

export async function historyJson(handle: WorkflowHandle): Promise<string> {
  return historyToJSON(await handle.fetchHistory());
}

export async function recordHistory(handle: WorkflowHandle, name: string): Promise<string> {
  const json = await historyJson(handle);
  if (recordingHistories()) {
    await fs.mkdir(HISTORY_FIXTURE_DIR, { recursive: true });
    await fs.writeFile(path.join(HISTORY_FIXTURE_DIR, `${name}.json`), json + '\n');
  }
  return json;
}

export async function readHistoryFixtures(): Promise<Array<{ name: string; workflowId: string; json: string }>> {
  const files = (await fs.readdir(HISTORY_FIXTURE_DIR)).filter((file) => file.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      name: file.replace(/\.json$/, ''),
      workflowId: `fixture-${file.replace(/\.json$/, '')}`,
      json: await fs.readFile(path.join(HISTORY_FIXTURE_DIR, file), 'utf8'),
    })),
  );
}
