import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './config';
import { loadDirectory } from './directory';
import { ConfigError } from './env-values';

describe(loadDirectory.name, () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-directory-'));
    file = path.join(dir, 'people.yaml');
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const sut = (yaml: string) => {
    fs.writeFileSync(file, yaml);
    return () => loadDirectory(file);
  };

  const people = (...entries: string[]) => `people:\n${entries.map((entry) => `  - ${entry}\n`).join('')}`;
  const ALICE = '{ id: alice, email: alice@example.com, groups: [engineering], slack: U0ALICE }';

  it('loads the demo people: six of them, dave the admin, each reachable in Slack', () => {
    const directory = loadDirectory(path.join(repoRoot(), 'config', 'people.yaml'));

    expect(directory.people.map((person) => person.id)).toEqual(['alice', 'bob', 'carol', 'dave', 'erin', 'ada']);
    expect(directory.resolve('role:admin').map((person) => person.id)).toEqual(['dave']);
    expect(directory.resolve('group:security').map((person) => person.id)).toEqual(['bob', 'carol']);
    expect(directory.person('dave')).toEqual({
      id: 'dave',
      name: 'Dave',
      email: 'dave@example.com',
      groups: ['security-leads'],
      roles: ['admin'],
      slack: 'U0DAVE',
    });
    for (const person of directory.people) expect(directory.slackMember(person.slack!)).toBe(person);
  });

  it('is empty when no file is configured (OIDC mode without one)', () => {
    expect(loadDirectory(undefined).people).toEqual([]);
  });

  it('gives groups and roles their defaults: none', () => {
    const directory = sut(people('{ id: zed, email: zed@example.com }'))();
    expect(directory.person('zed')).toEqual({
      id: 'zed',
      name: undefined,
      email: 'zed@example.com',
      groups: [],
      roles: [],
      slack: undefined,
    });
  });

  it.each([
    [
      'an id listed twice',
      people(ALICE, '{ id: bob, email: bob@example.com }', '{ id: alice, email: alice2@example.com }'),
      'people[2]: "id" alice is already people[0]\'s',
    ],
    [
      'a Slack id listed twice, which would make one person click as another',
      people(ALICE, '{ id: bob, email: bob@example.com, slack: U0ALICE }'),
      'people[1]: "slack" U0ALICE is already people[0]\'s',
    ],
    [
      'a bad e-mail address',
      people(ALICE, '{ id: bob, email: "bob at example.com" }'),
      'people[1]: "email" must be an e-mail address',
    ],
    ['a missing e-mail address', people('{ id: bob }'), 'people[0]: "email" must be an e-mail address'],
    [
      'a role latchkey does not have',
      people(ALICE, '{ id: bob, email: bob@example.com, roles: [approver] }'),
      'people[1]: "roles" may hold only auditor, admin',
    ],
    [
      'a Slack id that is not a member id',
      people('{ id: bob, email: bob@example.com, slack: "#approvals" }'),
      'people[0]: "slack" must be a Slack member id (U… or W…)',
    ],
    [
      'a Slack channel id in place of a member id',
      people(ALICE, '{ id: bob, email: bob@example.com, slack: C0APPROVALS }'),
      'people[1]: "slack" must be a Slack member id (U… or W…)',
    ],
    [
      'an id that cannot be a token subject',
      people('{ id: "bob smith", email: bob@example.com }'),
      'people[0]: "id" must be a token subject',
    ],
    [
      'groups that are not a list',
      people('{ id: bob, email: bob@example.com, groups: security }'),
      'people[0]: "groups" must be a list of group names',
    ],
    ['an entry that is not a map', people(ALICE, 'bob'), 'people[1] must be a map'],
  ])('refuses %s, naming the entry and the field', (_case, yaml, problem) => {
    const load = sut(yaml);
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(`${file}: ${problem}`);
  });

  it.each([
    ['no people: key', 'persons:\n  - { id: bob, email: bob@example.com }\n'],
    ['people: that is not a list', 'people: { bob: bob@example.com }\n'],
    ['nothing in it', ''],
  ])('refuses a file with %s, naming the people: list', (_case, yaml) => {
    expect(sut(yaml)).toThrow(new ConfigError(`the directory ${file} must have a "people:" list`));
  });

  it('refuses a file it cannot read or parse, naming it', () => {
    expect(() => loadDirectory(path.join(dir, 'absent.yaml'))).toThrow(
      `cannot read the directory ${path.join(dir, 'absent.yaml')}`,
    );
    expect(sut('people: [ { id: bob')).toThrow(ConfigError);
  });
});
