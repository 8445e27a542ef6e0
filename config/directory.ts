import * as fs from 'node:fs';
import { parse } from 'yaml';
import type { Person, Role } from '../contracts/identity';
import { Directory } from '../domain/directory';
import { ConfigError } from './env-values';

export { Directory };
export type { Person };

const ROLES: readonly Role[] = ['auditor', 'admin'];
const ID = /^[A-Za-z0-9._@~-]{1,128}$/;

/** Reads and checks the people file; every problem names the entry and the field. */
export function loadDirectory(file: string | undefined): Directory {
  if (!file) return Directory.empty();
  let document: unknown;
  try {
    document = parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read the directory ${file}: ${(error as Error).message}`);
  }
  const entries = (document as { people?: unknown } | null)?.people;
  if (!Array.isArray(entries)) throw new ConfigError(`the directory ${file} must have a "people:" list`);
  const people = entries.map((entry, index) => personAt(entry, `${file}: people[${index}]`));
  // A Slack id too names one person: a click is theirs.
  for (const field of ['id', 'slack'] as const) {
    people.forEach((person, index) => {
      const first = people.findIndex((other) => person[field] !== undefined && other[field] === person[field]);
      if (first !== -1 && first !== index)
        throw new ConfigError(`${file}: people[${index}]: "${field}" ${person[field]} is already people[${first}]'s`);
    });
  }
  return new Directory(people);
}

function personAt(entry: unknown, where: string): Person {
  if (typeof entry !== 'object' || entry === null) throw new ConfigError(`${where} must be a map`);
  const { id, name, email, groups = [], roles = [], slack } = entry as Record<string, unknown>;
  const fail = (what: string) => new ConfigError(`${where}: ${what}`);
  if (typeof id !== 'string' || !ID.test(id)) throw fail('"id" must be a token subject (letters, digits, ._@~-)');
  if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(email)) throw fail('"email" must be an e-mail address');
  if (name !== undefined && typeof name !== 'string') throw fail('"name" must be a string');
  if (!Array.isArray(groups) || !groups.every((group) => typeof group === 'string'))
    throw fail('"groups" must be a list of group names');
  if (!Array.isArray(roles) || !roles.every((role) => ROLES.includes(role as Role)))
    throw fail(`"roles" may hold only ${ROLES.join(', ')}`);
  if (slack !== undefined && (typeof slack !== 'string' || !/^[UW][A-Z0-9]{2,}$/.test(slack)))
    throw fail('"slack" must be a Slack member id (U… or W…)');
  return { id, name, email, groups: groups, roles: roles as Role[], slack: slack };
}
