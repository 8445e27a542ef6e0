import type { CodecKey } from '../../codec/codec-key';

/**
 * TEST-ONLY codec key. It is public (it is in the repository), so it protects nothing: it exists so
 * that the committed workflow-history fixtures can be recorded and replayed. Never configure it for a
 * real deployment; `loadOrCreateCodecKey` makes a random key for those.
 */
export const TEST_ONLY_CODEC_KEY: CodecKey = Object.freeze({
  id: 'test-only-1',
  key: Buffer.from('bGF0Y2hrZXktdGVzdC1vbmx5LWtleS0zMi1ieXRlcyE=', 'base64'),
});
