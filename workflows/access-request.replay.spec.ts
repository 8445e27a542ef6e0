import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { readHistoryFixtures } from '../test/support/histories';
import { TEST_EMAILS } from '../test/support/snapshots';
import { createDataConverter } from '../codec';
import { TEST_ONLY_CODEC_KEY } from '../test/support/codec-test-key';
import { replayBundle } from '../test/support/replay';

/**
 * Replays every committed history (one per lifecycle path, recorded by the time-skipping tests with
 * the TEST-ONLY codec key) against the current workflow code: a change that would break requests in
 * flight fails here. Re-record with `LATCHKEY_RECORD_HISTORIES=1 npx jest --selectProjects integration workflows/`.
 */
jest.setTimeout(120_000);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type HistoryJson = { events: Array<Record<string, Json>> };

const replayOptions = async () => ({
  workflowBundle: await replayBundle(),
  dataConverter: createDataConverter(TEST_ONLY_CODEC_KEY),
  replayName: 'latchkey-fixtures',
});

async function replay(entries: Array<{ workflowId: string; history: unknown }>) {
  const results: Array<{ workflowId: string; error?: Error }> = [];
  for await (const result of Worker.runReplayHistories(await replayOptions(), entries)) results.push(result);
  return results;
}

/** A copy of the history with one command moved ahead of the command before it, ids and references fixed. */
function withReorderedCommand(history: HistoryJson): HistoryJson {
  const events = structuredClone(history.events);
  const index = events.findIndex(
    (event, i) =>
      i > 0 &&
      event.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' &&
      events[i - 1].eventType === 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
  );
  if (index < 0) throw new Error('no search-attribute upsert followed by an activity in this history');
  const [earlier, later] = [events[index - 1], events[index]];
  const [earlierId, laterId] = [earlier.eventId as string, later.eventId as string];
  events[index - 1] = { ...later, eventId: earlierId };
  events[index] = { ...earlier, eventId: laterId };
  // Activity events refer to their scheduling event by id.
  for (const event of events.slice(index + 1)) {
    for (const attributes of Object.values(event)) {
      if (attributes && typeof attributes === 'object' && !Array.isArray(attributes)) {
        if (attributes.scheduledEventId === laterId) attributes.scheduledEventId = earlierId;
      }
    }
  }
  return { ...history, events };
}

/** Every string in the history, and what it says once base64-decoded (payload data is base64). */
function* strings(value: Json, path: string[] = []): Generator<{ text: string; path: string[] }> {
  if (typeof value === 'string') {
    yield { text: value, path };
    if (/^[A-Za-z0-9+/]+=*$/.test(value) && value.length >= 8) {
      yield { text: Buffer.from(value, 'base64').toString('latin1'), path };
    }
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* strings(item, [...path, String(i)]);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) yield* strings(item, [...path, key]);
  }
}

/** Every payload (an object with metadata.encoding) and where it sits. */
function* payloads(value: Json, path: string[] = []): Generator<{ encoding: string; path: string[] }> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* payloads(item, [...path, String(i)]);
  } else if (value && typeof value === 'object') {
    const metadata = value.metadata;
    if (metadata && typeof metadata === 'object' && !Array.isArray(metadata) && typeof metadata.encoding === 'string') {
      yield { encoding: Buffer.from(metadata.encoding, 'base64').toString(), path };
      return;
    }
    for (const [key, item] of Object.entries(value)) yield* payloads(item, [...path, key]);
  }
}

describe('recorded access-request histories', () => {
  it('every committed history replays cleanly against the current workflow code', async () => {
    const fixtures = await readHistoryFixtures();
    const paths = [
      'vault-group-expired',
      'share-link-expired',
      'timed-out',
      'escalated-then-approved',
      'two-of-three-then-given-back',
      'withdrawn',
      'approved-once-then-rejected',
      'cancelled-while-active',
      'revoke-retried-then-revoked',
      'grant-failed',
      'automatic-then-admin-revoked',
      'vault-lease-single',
    ];
    // Every lifecycle path as the current code records it, and as requests started before the patches
    // `access-always-ends`, `request-patches-folded`, `visibility-once-per-change` and `state-from-input` recorded it
    // (they replay along their old path).
    expect(fixtures.map((fixture) => fixture.name)).toEqual(
      expect.arrayContaining([
        ...paths,
        'withdrawn-while-granting',
        'outage-30-days-then-expired',
        'extension-new-link',
        'extension-link-refused',
        'extension-revoked-while-linking',
        'rotated-in-database',
        'rotation-answers-lost',
        'database-login-revoked',
        'database-login-extended-then-expired',
        'signed-approve-then-expired',
        'vault-group-lease-authenticated',
        'vault-lease-forged-message-dropped',
        ...paths.map((path) => `before-access-always-ends/${path}`),
        // The vault lease's own histories do not change with it.
        ...paths
          .filter((path) => !path.startsWith('vault-lease-'))
          .map((path) => `before-request-patches-folded/${path}`),
        ...paths
          .filter((path) => !path.startsWith('vault-lease-'))
          .map((path) => `before-visibility-once-per-change/${path}`),
        ...paths.filter((path) => !path.startsWith('vault-lease-')).map((path) => `before-state-from-input/${path}`),
      ]),
    );
    const results = await replay(fixtures.map(({ workflowId, json }) => ({ workflowId, history: JSON.parse(json) })));
    expect(results.map((result) => [result.workflowId, result.error?.message])).toEqual(
      fixtures.map((fixture) => [fixture.workflowId, undefined]),
    );
  });

  it('a share link request writes its visibility once per change: three writes fewer than before the patch', async () => {
    const fixtures = await readHistoryFixtures();
    const visibilityWrites = (name: string) => {
      const { events } = JSON.parse(fixtures.find((fixture) => fixture.name === name)!.json) as HistoryJson;
      const types = events.map((event) => event.eventType as string);
      return {
        upserts: types.filter((type) => type === 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES').length,
        memos: types.filter((type) => type === 'EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED').length,
        startCarriedMemo: JSON.stringify(events[0]).includes('"memo"'),
      };
    };
    const before = visibilityWrites('before-visibility-once-per-change/share-link-expired');
    // The start carried the memo and the search attributes; the patch's own, APPROVED, ACTIVE and EXPIRED remain.
    expect(visibilityWrites('share-link-expired')).toEqual({ upserts: 4, memos: 0, startCarriedMemo: true });
    expect(before.upserts + before.memos).toBe(7);
  });

  it('a deliberately reordered command fails replay with a non-determinism error', async () => {
    // A share link's: no lease answers, whose MAC would bind the replay to the recorded workflow id.
    const fixture = (await readHistoryFixtures()).find((candidate) => candidate.name === 'share-link-expired')!;
    const original = JSON.parse(fixture.json) as HistoryJson;
    const [clean, changed] = await replay([
      { workflowId: 'original', history: original },
      { workflowId: 'reordered', history: withReorderedCommand(original) },
    ]);
    expect(clean.error).toBeUndefined();
    expect(changed.error).toBeInstanceOf(DeterminismViolationError);
  });

  it('no recorded history contains a share link or an e-mail address in plaintext', async () => {
    const fixtures = await readHistoryFixtures();
    expect(fixtures.length).toBeGreaterThan(0);
    for (const fixture of fixtures) {
      const history = JSON.parse(fixture.json) as Json;
      for (const { text, path } of strings(history)) {
        const where = `${fixture.name}: ${path.join('.')}`;
        for (const email of TEST_EMAILS)
          expect({ where, leaks: text.includes(email) }).toEqual({ where, leaks: false });
        expect({ where, leaks: /share\.local-1password\.invalid|https:\/\/share\./.test(text) }).toEqual({
          where,
          leaks: false,
        });
        expect({ where, leaks: /[A-Za-z0-9._%+-]+@example\.com/.test(text) }).toEqual({ where, leaks: false });
      }
      // Every payload is encrypted, except search attributes, which hold ids only and must stay readable,
      // the SDK's patch markers, which hold a patch id (workflows/patches.ts), and the SDK's own record of a
      // local activity (its id, type and times; the result beside it is encrypted).
      for (const { encoding, path } of payloads(history)) {
        if (path.includes('searchAttributes') || path.includes('patch-data')) continue;
        if (path.join('.').endsWith('markerRecordedEventAttributes.details.data.payloads.0')) continue;
        expect({ where: `${fixture.name}: ${path.join('.')}`, encoding }).toEqual({
          where: `${fixture.name}: ${path.join('.')}`,
          encoding: 'binary/encrypted',
        });
      }
    }
  });
});
