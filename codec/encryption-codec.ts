import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  type DataConverter,
  METADATA_ENCODING_KEY,
  type Payload,
  type PayloadCodec,
  ValueError,
} from '@temporalio/common';
import type { CodecKey } from './codec-key';

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

/**
 * AES-256-GCM payload codec: every payload (inputs, results, update arguments, query answers,
 * failure attributes) is encrypted before it leaves the process, with the key id in the metadata so
 * that keys can be rotated. Decoding a payload tampered with, or made with an unknown key, throws.
 */
export function createEncryptionCodec(key: CodecKey): PayloadCodec {
  if (key.key.length !== 32) throw new ValueError('codec key must be 32 bytes');
  const keyId = Buffer.from(key.id, 'utf8');
  return {
    // eslint-disable-next-line @typescript-eslint/require-await -- async so that a throw becomes a rejection
    async encode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', key.key, iv);
        // The key id is authenticated too: a payload relabelled with another id fails to decode.
        cipher.setAAD(keyId);
        const ciphertext = Buffer.concat([cipher.update(serialize(payload)), cipher.final()]);
        return {
          metadata: {
            [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
            [KEY_ID_METADATA]: keyId,
          },
          data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
        };
      });
    },
    // eslint-disable-next-line @typescript-eslint/require-await -- async so that a throw becomes a rejection
    async decode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
        if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
        const id = Buffer.from(payload.metadata?.[KEY_ID_METADATA] ?? new Uint8Array()).toString();
        if (id !== key.id) throw new ValueError(`payload encrypted with unknown codec key id "${id}"`);
        const data = Buffer.from(payload.data ?? new Uint8Array());
        if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('encrypted payload is truncated');
        const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, IV_BYTES));
        decipher.setAAD(keyId);
        decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
        let plain: Buffer;
        try {
          plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
        } catch {
          throw new ValueError('encrypted payload failed authentication (tampered or wrong key)');
        }
        return deserialize(plain);
      });
    },
  };
}

/** The data converter of the worker and every client: encrypted payloads and encoded failure messages. */
export function createDataConverter(key: CodecKey): DataConverter {
  return {
    payloadCodecs: [createEncryptionCodec(key)],
    failureConverterPath: require.resolve('./failure-converter'),
  };
}
