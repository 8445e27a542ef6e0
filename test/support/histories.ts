import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { loadDevelopmentSettings } from '../../config/development';

/** Committed workflow histories, one per lifecycle path, replayed by `workflows/*.replay.spec.ts`. */
export const HISTORY_FIXTURE_DIR = path.resolve(__dirname, '../../workflows/__fixtures__/histories');

/**
 * Re-recording: `LATCHKEY_RECORD_HISTORIES=1 npx jest --selectProjects integration workflows/`.
 * The time-skipping tests then write the history of each path they drive (payloads encrypted with the
 * test-only codec key). Without the variable the tests only read the history, so a normal run never
 * changes the committed fixtures.
 */
export function recordingHistories(): boolean {
  return loadDevelopmentSettings().recordHistories;
}

export async function historyJson(handle: WorkflowHandle): Promise<string> {
  return historyToJSON(await handle.fetchHistory());
}

/**
 * The workflow id each history was recorded under, where replay depends on it: messages between workflows
 * carry a MAC bound to their recipient's id (trust/internal-message.ts). Others replay under `fixture-<name>`.
 */
const WORKFLOW_IDS_FILE = path.resolve(HISTORY_FIXTURE_DIR, '..', 'history-workflow-ids.json');

async function recordedWorkflowIds(): Promise<Record<string, string>> {
  try {
    return JSON.parse(await fs.readFile(WORKFLOW_IDS_FILE, 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/**
 * Writes the history under `name` when re-recording. `keepWorkflowId`: replayed under the id it ran under; by
 * default, when the history holds a vault lease's answers, whose MAC is bound to the id (a request under another
 * id drops them, and replays another path).
 */
export async function recordHistory(
  handle: WorkflowHandle,
  name: string,
  { keepWorkflowId }: { keepWorkflowId?: boolean } = {},
): Promise<string> {
  const json = await historyJson(handle);
  keepWorkflowId ??= json.includes('"signalName": "leaseResult"');
  if (recordingHistories()) {
    await fs.mkdir(HISTORY_FIXTURE_DIR, { recursive: true });
    await fs.writeFile(path.join(HISTORY_FIXTURE_DIR, `${name}.json`), json + '\n');
    if (keepWorkflowId) {
      const ids = { ...(await recordedWorkflowIds()), [name]: handle.workflowId };
      const sorted = Object.fromEntries(Object.entries(ids).sort(([a], [b]) => a.localeCompare(b)));
      await fs.writeFile(WORKFLOW_IDS_FILE, JSON.stringify(sorted, null, 2) + '\n');
    }
  }
  return json;
}

/**
 * Every committed history: the current code's (recorded by the tests) and, in subfolders, those of
 * workflows started before a patch, which must replay along their old path for as long as it exists.
 */
export async function readHistoryFixtures(): Promise<Array<{ name: string; workflowId: string; json: string }>> {
  const entries = await fs.readdir(HISTORY_FIXTURE_DIR, { recursive: true });
  const files = entries.filter((file) => file.endsWith('.json')).sort();
  const workflowIds = await recordedWorkflowIds();
  return Promise.all(
    files.map(async (file) => {
      const name = file.replace(/\.json$/, '');
      return {
        name,
        workflowId: workflowIds[name] ?? `fixture-${name.replace(/[/\\]/g, '-')}`,
        json: await fs.readFile(path.join(HISTORY_FIXTURE_DIR, file), 'utf8'),
      };
    }),
  );
}
