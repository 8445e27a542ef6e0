import { replayBundle } from '../test/support/replay';
import * as path from 'node:path';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { readHistoryFixtures } from '../test/support/histories';
import { createDataConverter } from '../codec';
import { TEST_ONLY_CODEC_KEY } from '../test/support/codec-test-key';

/**
 * How to change the workflow while requests are in flight: a change behind `patched()` replays every
 * recorded history cleanly; the same change made bluntly breaks the requests that access-request
 * histories recorded.
 */
jest.setTimeout(120_000);

async function replayFixturesAgainst(workflowsPath: string) {
  const fixtures = await readHistoryFixtures();
  const results: Array<{ name: string; error?: Error }> = [];
  const names = new Map(fixtures.map((fixture) => [fixture.workflowId, fixture.name]));
  const histories = fixtures.map(({ workflowId, json }) => ({ workflowId, history: JSON.parse(json) as unknown }));
  const options = {
    workflowBundle: await replayBundle(workflowsPath),
    dataConverter: createDataConverter(TEST_ONLY_CODEC_KEY),
    replayName: 'versions',
  };
  for await (const result of Worker.runReplayHistories(options, histories)) {
    results.push({ name: names.get(result.workflowId)!, error: result.error });
  }
  return results;
}

describe('changing the access-request workflow with requests in flight', () => {
  it('a change behind patched() replays every recorded history cleanly', async () => {
    const results = await replayFixturesAgainst(require.resolve('./__fixtures__/versions/patched-change'));
    expect(results.length).toBeGreaterThan(10);
    expect(results.filter((result) => result.error)).toEqual([]);
  });

  it('the same change without a patch fails replay of every access-request history with non-determinism', async () => {
    const results = await replayFixturesAgainst(require.resolve('./__fixtures__/versions/unpatched-change'));
    const isLease = (name: string) => path.basename(name).startsWith('vault-lease-');
    const accessRequests = results.filter((result) => !isLease(result.name));
    expect(accessRequests.length).toBeGreaterThan(10);
    for (const result of accessRequests) {
      expect({ name: result.name, error: result.error }).toEqual({
        name: result.name,
        error: expect.any(DeterminismViolationError),
      });
    }
    // The entity workflows did not change, so their histories still replay.
    expect(results.filter((result) => isLease(result.name)).every((result) => !result.error)).toBe(true);
  });
});
