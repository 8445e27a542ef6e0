import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  type DataConverter,
  METADATA_ENCODING_KEY,
  type Payload,
  type PayloadCodec,
  ValueError,
} from '@temporalio/common';
import { type CodecKey, type CodecKeyring, codecKeyring } from './codec-key';

/** Metadata of an encrypted payload; the data is iv (12) | ciphertext | tag (16). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The inner payload, serialised as JSON so no protobuf runtime is needed here. */
interface SerializedPayload {
  metadata: Record<string, string>;
  data: string;
}

function serialize(payload: Payload): Buffer {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    if (value) metadata[key] = Buffer.from(value).toString('base64');
  }
  const body: SerializedPayload = { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
  return Buffer.from(JSON.stringify(body), 'utf8');
}

function deserialize(bytes: Buffer): Payload {
  const body = JSON.parse(bytes.toString('utf8')) as SerializedPayload;
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(body.metadata)) metadata[key] = Buffer.from(value, 'base64');
  return { metadata, data: Buffer.from(body.data, 'base64') };
}

/** What a refusing codec decodes a payload it will not trust into: every entry point refuses it as malformed. */
export const REFUSED_PLAINTEXT = Object.freeze({ latchkeyRefused: 'plaintext-payload' });
export const REFUSED_UNDECODABLE = Object.freeze({ latchkeyRefused: 'undecodable-payload' });

export interface EncryptionCodecOptions {
  /**
   * A payload that is not encrypted: `pass` it through (clients, the API, the UI's codec endpoint,
   * which show history as it is), or `refuse` it (the worker: only someone without the key sends
   * plaintext). Refused payloads decode to a marker value rather than throwing, because a codec throw
   * while decoding an activation fails the workflow task on every retry and would freeze the request.
   */
  plaintext?: 'pass' | 'refuse';
  /** Told of every refused payload (the worker logs it). */
  onRefused?: (reason: 'plaintext-payload' | 'undecodable-payload') => void;
}

function markerPayload(marker: object): Payload {
  return {
    metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') },
    data: Buffer.from(JSON.stringify(marker), 'utf8'),
  };
}

function asKeyring(keys: CodecKey | CodecKeyring): CodecKeyring {
  return 'current' in keys ? keys : codecKeyring(keys);
}

/**
 * AES-256-GCM payload codec: every payload (inputs, results, update arguments, query answers,
 * failure attributes) is encrypted with the keyring's current key before it leaves the process, with
 * the key id in the metadata, and decrypted with whichever known key that id names, so keys can be
 * rotated. A payload tampered with throws (or, refusing, decodes to a marker); one made with an
 * unknown key always throws: that is a missing decode-only key, and retrying until it is configured is
 * right, where carrying on with a marker would corrupt requests in flight.
 */
export function createEncryptionCodec(
  keys: CodecKey | CodecKeyring,
  options: EncryptionCodecOptions = {},
): PayloadCodec {
  const keyring = asKeyring(keys);
  for (const { key } of [keyring.current, ...keyring.decodeOnly]) {
    if (key.length !== 32) throw new ValueError('codec key must be 32 bytes');
  }
  const byId = new Map([keyring.current, ...keyring.decodeOnly].map((known) => [known.id, known.key]));
  const currentId = Buffer.from(keyring.current.id, 'utf8');
  const refuse = options.plaintext === 'refuse';

  /** The plain payload, or why it cannot be trusted (an unknown key id throws: see above). */
  const decrypt = (payload: Payload): Payload | { undecodable: string } => {
    const id = Buffer.from(payload.metadata?.[KEY_ID_METADATA] ?? new Uint8Array()).toString();
    const key = byId.get(id);
    if (!key) throw new ValueError(`payload encrypted with unknown codec key id "${id}"`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) return { undecodable: 'encrypted payload is truncated' };
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      return { undecodable: 'encrypted payload failed authentication (tampered or wrong key)' };
    }
    return deserialize(plain);
  };

  return {
    // eslint-disable-next-line @typescript-eslint/require-await -- async so that a throw becomes a rejection
    async encode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', keyring.current.key, iv);
        // The key id is authenticated too: a payload relabelled with another id fails to decode.
        cipher.setAAD(currentId);
        const ciphertext = Buffer.concat([cipher.update(serialize(payload)), cipher.final()]);
        return {
          metadata: {
            [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
            [KEY_ID_METADATA]: currentId,
          },
          data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
        };
      });
    },
    // eslint-disable-next-line @typescript-eslint/require-await -- async so that a throw becomes a rejection
    async decode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
        if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) {
          if (!refuse) return payload;
          options.onRefused?.('plaintext-payload');
          return markerPayload(REFUSED_PLAINTEXT);
        }
        const decrypted = decrypt(payload);
        if (!('undecodable' in decrypted)) return decrypted;
        if (!refuse) throw new ValueError(decrypted.undecodable);
        options.onRefused?.('undecodable-payload');
        return markerPayload(REFUSED_UNDECODABLE);
      });
    },
  };
}

/** The data converter of the worker and every client: encrypted payloads and encoded failure messages. */
export function createDataConverter(
  keys: CodecKey | CodecKeyring,
  options: EncryptionCodecOptions = {},
): DataConverter {
  return {
    payloadCodecs: [createEncryptionCodec(keys, options)],
    failureConverterPath: require.resolve('./failure-converter'),
  };
}
