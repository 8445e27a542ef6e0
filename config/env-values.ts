import { parseIsoDuration } from '../domain/duration';

/** Readers of environment values, each failing with a message that names the variable and what it wants. */

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function int(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function oneOf<T extends string>(env: NodeJS.ProcessEnv, key: string, allowed: readonly T[], fallback: T): T {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${key} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

export function url(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const raw = env[key];
  if (!raw) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${key} must be an http(s) URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new ConfigError(`${key} must be an http(s) URL`);
  return raw;
}

/** An ISO 8601 duration such as PT5M, or `off`. */
export function durationOrOff(env: NodeJS.ProcessEnv, key: string, fallback: string): number | undefined {
  const raw = env[key] || fallback;
  if (raw === 'off') return undefined;
  let ms: number;
  try {
    ms = parseIsoDuration(raw);
  } catch {
    throw new ConfigError(`${key} must be an ISO 8601 duration such as PT5M, or off; got "${raw}"`);
  }
  if (ms < 10_000) throw new ConfigError(`${key} must be at least PT10S, or off; got "${raw}"`);
  return ms;
}

/** An ISO 8601 duration such as PT24H, in whole seconds, within bounds. */
export function seconds(env: NodeJS.ProcessEnv, key: string, fallback: string, min: number, max: number): number {
  const raw = env[key] || fallback;
  let ms: number;
  try {
    ms = parseIsoDuration(raw);
  } catch {
    throw new ConfigError(`${key} must be an ISO 8601 duration such as ${fallback}; got "${raw}"`);
  }
  if (ms < min * 1000 || ms > max * 1000) {
    throw new ConfigError(`${key} must be from ${min} s to ${max} s; got "${raw}"`);
  }
  return Math.floor(ms / 1000);
}

export function required(env: NodeJS.ProcessEnv, key: string, why: string): string {
  const raw = env[key];
  if (!raw) throw new ConfigError(`${key} is required ${why}`);
  return raw;
}
