import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';

/** Decodes stored payloads the way the client would: codecs in reverse order, then the converter. */
export function payloadDecoder(client: Client): (payloads: Payload[] | null | undefined) => Promise<unknown[]> {
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  return async (payloads) => {
    let decoded = payloads ?? [];
    for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
    return decoded.map((payload) => payloadConverter.fromPayload<unknown>(payload));
  };
}
