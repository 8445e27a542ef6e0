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

/** gRPC status code of an error from the raw workflow service, if it has one. */
export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const GRPC = { NOT_FOUND: 5, FAILED_PRECONDITION: 9 } as const;
