import * as fs from 'node:fs';
import { parse } from 'yaml';
import type { Role } from '../contracts/identity';
import { ConfigError } from './env-values';

/** One person latchkey can reach: the id is their tokens' subject. */
export interface Person {
  id: string;
  name?: string;
  email: string;
  groups: string[];
  roles: Role[];
  /** Slack member id (`U…`): where approval messages go, and who a Slack click is. */
  slack?: string;
}

/**
 * The people file (`LATCHKEY_DIRECTORY_FILE`): who is in which group, and how to reach them. Tokens say who
 * the caller is; only this says who else is in a group, which a notification to "group:security" needs.
 */
export class Directory {
  private readonly byId = new Map<string, Person>();
  private readonly bySlack = new Map<string, Person>();

  constructor(readonly people: readonly Person[]) {
    for (const person of people) {
      if (this.byId.has(person.id)) throw new ConfigError(`the directory lists "${person.id}" twice`);
      this.byId.set(person.id, person);
      if (person.slack) this.bySlack.set(person.slack, person);
    }
  }

  static empty(): Directory {
    return new Directory([]);
  }

  person(id: string): Person | undefined {
    return this.byId.get(id);
  }

  slackMember(slackId: string): Person | undefined {
    return this.bySlack.get(slackId);
  }

  /** The people a principal key (`user:<id>`, `group:<id>`, `role:<role>`) names; unknown ones name nobody. */
  resolve(principal: string): Person[] {
    const colon = principal.indexOf(':');
    const kind = principal.slice(0, colon);
    const id = principal.slice(colon + 1);
    if (kind === 'user') return this.byId.has(id) ? [this.byId.get(id)!] : [];
    if (kind === 'group') return this.people.filter((person) => person.groups.includes(id));
    if (kind === 'role') return this.people.filter((person) => (person.roles as string[]).includes(id));
    return [];
  }
}

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
  return new Directory(entries.map((entry, index) => personAt(entry, `${file}: people[${index}]`)));
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
  return { id, name, email, groups: groups as string[], roles: roles as Role[], slack: slack as string | undefined };
}
