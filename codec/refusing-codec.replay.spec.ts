import { Worker } from '@temporalio/worker';
import { readHistoryFixtures } from '../test/support/histories';
import { replayBundle } from '../test/support/replay';
import { TEST_ONLY_CODEC_KEY } from '../test/support/codec-test-key';
import { createDataConverter } from './encryption-codec';

/**
 * The worker's codec refuses plaintext payloads. What the SDK and the server legitimately leave
 * unencrypted (search attributes, patch markers, headers) must never reach it: replaying every
 * committed history with the refusing converter proves that nothing was refused and nothing changed.
 */
jest.setTimeout(120_000);

describe('the refusing codec over the recorded histories', () => {
  it('replays every committed history without refusing a single payload', async () => {
    const fixtures = await readHistoryFixtures();
    const refused: string[] = [];
    const options = {
      workflowBundle: await replayBundle(),
      dataConverter: createDataConverter(TEST_ONLY_CODEC_KEY, {
        plaintext: 'refuse',
        onRefused: (reason) => refused.push(reason),
      }),
      replayName: 'latchkey-refusing-codec',
    };
    const results: Array<[string, string | undefined]> = [];
    const histories = fixtures.map(({ workflowId, json }) => ({ workflowId, history: JSON.parse(json) as unknown }));
    for await (const result of Worker.runReplayHistories(options, histories)) {
      results.push([result.workflowId, result.error?.message]);
    }
    expect(results).toEqual(fixtures.map((fixture) => [fixture.workflowId, undefined]));
    expect(refused).toEqual([]);
  });
});
