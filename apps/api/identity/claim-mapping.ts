import * as crypto from 'node:crypto';
import type { ClaimMapping } from '../../../config/identity';
import type { Role } from '../../../contracts/identity';
import { type Caller, GROUP_PATTERN, PLAIN_SUBJECT_PATTERN, ROLES } from './caller';

/** Why a token was refused; logged (never with the token), while the client only hears "401". */
export class TokenRejected extends Error {
  constructor(readonly reason: string) {
    super(`token rejected: ${reason}`);
    this.name = 'TokenRejected';
  }
}

const EMAIL_PATTERN = /^[^\s@"'<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/;

/**
 * The value at a claim path. At each level a key that contains dots is matched whole before the path
 * is split, so `https://example.com/groups` and `resource_access.my.api.roles` both resolve. Only a
 * token's own keys are read, never anything inherited.
 */
export function claimAt(claims: unknown, claimPath: string): unknown {
  if (claimPath === '') return claims;
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
  const record = claims as Record<string, unknown>;
  for (let end = claimPath.length; end > 0; end = claimPath.lastIndexOf('.', end - 1)) {
    const key = claimPath.slice(0, end);
    if (Object.hasOwn(record, key)) {
      const rest = end === claimPath.length ? '' : claimPath.slice(end + 1);
      const found = claimAt(record[key], rest);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * The id latchkey uses for a subject. Ids go into search attributes, visibility queries and policy
 * files, so a subject that is not a plain id (an e-mail address, Entra's pairwise `-`/`_`-led
 * subjects, anything with quotes or spaces) is replaced by `~` and a digest of it: stable, shown by
 * `GET /v1/me`, and never equal to a plain id, since no plain id starts with `~`.
 */
export function callerIdOf(subject: string): string {
  if (PLAIN_SUBJECT_PATTERN.test(subject)) return subject;
  const digest = crypto.createHash('sha256').update(subject, 'utf8').digest();
  return `~${base32(digest).slice(0, 26)}`;
}

function base32(bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

function firstPresent(claims: object, paths: string[]): { path: string; value: unknown } | undefined {
  for (const claimPath of paths) {
    const value = claimAt(claims, claimPath);
    if (value !== undefined && value !== null) return { path: claimPath, value };
  }
  return undefined;
}

/** A list claim as strings; Entra and Okta send lists, some providers a space-separated string. */
function stringsOf(value: unknown, claimPath: string): string[] {
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value) && value.every((entry) => typeof entry === 'string')) return value;
  throw new TokenRejected(`${claimPath} claim is not a list of strings`);
}

/** `/engineering/platform` → `engineering.platform`; a segment with a dot of its own could be confused, so it is dropped. */
function keycloakGroupName(value: string): string | undefined {
  if (!value.startsWith('/')) return value;
  const segments = value.slice(1).split('/');
  return segments.some((segment) => segment === '' || segment.includes('.')) ? undefined : segments.join('.');
}

function groupsOf(claims: object, mapping: ClaimMapping): string[] {
  // Entra replaces `groups` by a pointer to Microsoft Graph past 200 groups (the "overage").
  if (claimAt(claims, '_claim_names.groups') !== undefined && claimAt(claims, 'groups') === undefined) {
    if (mapping.missingGroups === 'refuse') {
      throw new TokenRejected(
        'groups overage: the provider sent a reference to Microsoft Graph instead of the groups (assign groups to the application, or send app roles)',
      );
    }
    return [];
  }
  const present = mapping.groups.filter((claimPath) => claimAt(claims, claimPath) !== undefined);
  if (present.length === 0) {
    if (mapping.missingGroups === 'refuse') {
      throw new TokenRejected(`no groups: the token has none of the group claims ${mapping.groups.join(', ')}`);
    }
    return [];
  }
  const groups = new Set<string>();
  for (const claimPath of present) {
    for (const raw of stringsOf(claimAt(claims, claimPath), claimPath)) {
      const value = mapping.groupPaths === 'keycloak' ? keycloakGroupName(raw) : raw;
      if (value === undefined) continue;
      const mapped = Object.hasOwn(mapping.groupMap, value)
        ? mapping.groupMap[value]
        : mapping.unmappedGroups === 'keep'
          ? value
          : undefined;
      // Groups that could not be ids are dropped: that can only take rights away, never add them.
      if (mapped !== undefined && GROUP_PATTERN.test(mapped)) groups.add(mapped);
    }
  }
  return [...groups];
}

function rolesOf(claims: object, mapping: ClaimMapping): Role[] {
  const roles = new Set<Role>();
  for (const claimPath of mapping.roles) {
    const value = claimAt(claims, claimPath);
    if (value === undefined) continue;
    for (const role of stringsOf(value, claimPath)) {
      if (Object.hasOwn(mapping.roleMap, role)) roles.add(mapping.roleMap[role]);
    }
  }
  return ROLES.filter((role) => roles.has(role));
}

/**
 * Builds the caller from verified claims, as the mapping says where each part comes from; anything
 * unexpected refuses the token. Only the boolean `true` verifies the e-mail address.
 */
export function callerFromClaims(claims: object, mapping: ClaimMapping): Caller {
  for (const { claim, value } of mapping.requiredValues) {
    if (claimAt(claims, claim) !== value) throw new TokenRejected(`${claim} is not ${value}`);
  }
  const subject = firstPresent(claims, mapping.subject);
  if (!subject || typeof subject.value !== 'string' || subject.value.length === 0 || subject.value.length > 255) {
    throw new TokenRejected(`subject missing: none of ${mapping.subject.join(', ')} is a string`);
  }
  const email = firstPresent(claims, mapping.email);
  if (!email || typeof email.value !== 'string' || !EMAIL_PATTERN.test(email.value)) {
    throw new TokenRejected(`e-mail missing or malformed: none of ${mapping.email.join(', ')} is an address`);
  }
  const verified = firstPresent(claims, mapping.emailVerified);
  if (verified && typeof verified.value !== 'boolean') throw new TokenRejected(`${verified.path} is not a boolean`);
  if (verified?.value === false) throw new TokenRejected('e-mail not verified');
  return {
    identity: { id: callerIdOf(subject.value), email: email.value, groups: groupsOf(claims, mapping) },
    roles: rolesOf(claims, mapping),
    ...(verified?.value === true ? { emailVerified: true as const } : {}),
  };
}
