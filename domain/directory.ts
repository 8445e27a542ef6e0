import type { Person } from '../contracts/identity';

/**
 * Who is in which group, and how to reach them (the people file, config/directory.ts). Tokens say who the
 * caller is; only this says who else is in a group, which a notification to "group:security" needs.
 */
export class Directory {
  private readonly byId = new Map<string, Person>();
  private readonly bySlack = new Map<string, Person>();

  constructor(readonly people: readonly Person[]) {
    for (const person of people) {
      if (this.byId.has(person.id)) throw new Error(`the directory lists "${person.id}" twice`);
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
