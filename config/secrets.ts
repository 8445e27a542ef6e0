import * as fs from 'node:fs';

/** Where a secret comes from: an environment variable or a file (never the policy file itself). */
export type SecretSource = { env: string } | { file: string };

export class SecretSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretSourceError';
  }
}

/**
 * Reads a secret named by policy, at the moment it is needed. The message of a failure names the
 * source, never the value.
 */
export function readSecret(source: SecretSource, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in source) {
    const value = env[source.env]?.trim();
    if (!value) throw new SecretSourceError(`environment variable ${source.env} is not set`);
    return value;
  }
  let value: string;
  try {
    value = fs.readFileSync(source.file, 'utf8').trim();
  } catch (error) {
    throw new SecretSourceError(`cannot read ${source.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!value) throw new SecretSourceError(`${source.file} is empty`);
  return value;
}
