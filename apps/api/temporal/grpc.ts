/** gRPC status code of an error from the raw workflow service, if it has one. */
export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const GRPC = { NOT_FOUND: 5, FAILED_PRECONDITION: 9 } as const;
