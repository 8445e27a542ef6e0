import { GENERIC_CLAIMS, type ClaimMapping } from '../../../config/identity';
import { callerFromClaims, callerIdOf, claimAt, TokenRejected } from './claim-mapping';

describe(callerFromClaims.name, () => {
  const person = { sub: 'u1', email: 'alice@example.com' };
  const mapping = (overrides: Partial<ClaimMapping>): ClaimMapping => ({ ...GENERIC_CLAIMS, ...overrides });
  const reason = (claims: object, map: ClaimMapping) => {
    try {
      callerFromClaims(claims, map);
    } catch (err) {
      if (err instanceof TokenRejected) return err.reason;
      throw err;
    }
    return 'accepted';
  };

  it('reads nested and namespaced claims, never inherited properties', () => {
    const claims = {
      'https://example.com/groups': ['a'],
      realm_access: { roles: ['admin'] },
      resource_access: { 'api.example': { roles: ['auditor'] } },
    };
    expect(claimAt(claims, 'https://example.com/groups')).toEqual(['a']);
    expect(claimAt(claims, 'realm_access.roles')).toEqual(['admin']);
    expect(claimAt(claims, 'resource_access.api.example.roles')).toEqual(['auditor']);
    expect(claimAt(claims, 'realm_access.constructor')).toBeUndefined();
    expect(claimAt(claims, '__proto__')).toBeUndefined();
    expect(claimAt({ groups: 'a' }, 'groups.length')).toBeUndefined();
  });

  it('takes the first subject and e-mail present, and unions the group and role claims', () => {
    const caller = callerFromClaims(
      { ...person, upn: 'alice@contoso.com', groups: ['a'], wids: 'b c', roles: ['Latchkey.Admin', 'other'] },
      mapping({
        subject: ['oid', 'sub'],
        email: ['mail', 'upn', 'email'],
        groups: ['groups', 'wids'],
        roleMap: { 'Latchkey.Admin': 'admin' },
      }),
    );
    expect(caller).toEqual({
      identity: { id: 'u1', email: 'alice@contoso.com', groups: ['a', 'b', 'c'] },
      roles: ['admin'],
    });
  });

  it('maps group values, keeping or dropping the ones it does not know, and reads Keycloak paths', () => {
    const groupMap = { 'guid-1': 'engineering' };
    const claims = { ...person, groups: ['guid-1', 'guid-2', '/ops/on-call', '/a.b', "x' OR '1"] };
    expect(callerFromClaims(claims, mapping({ groupMap, unmappedGroups: 'drop' })).identity.groups).toEqual([
      'engineering',
    ]);
    expect(callerFromClaims(claims, mapping({ groupMap, groupPaths: 'keycloak' })).identity.groups).toEqual([
      'engineering',
      'guid-2',
      'ops.on-call',
    ]);
  });

  it('refuses a token without group claims, or accepts it with none, as configured', () => {
    expect(reason(person, mapping({ missingGroups: 'refuse' }))).toBe(
      'no groups: the token has none of the group claims groups',
    );
    expect(callerFromClaims(person, mapping({ missingGroups: 'empty' })).identity.groups).toEqual([]);
    // An empty list is a statement: no groups, not a missing claim.
    expect(callerFromClaims({ ...person, groups: [] }, mapping({ missingGroups: 'refuse' })).identity.groups).toEqual(
      [],
    );
    expect(reason({ ...person, _claim_names: { groups: 'src1' } }, mapping({ missingGroups: 'refuse' }))).toMatch(
      /^groups overage/,
    );
  });

  it('refuses what it cannot read safely', () => {
    expect(reason({ email: 'a@example.com' }, GENERIC_CLAIMS)).toBe('subject missing: none of sub is a string');
    expect(reason({ ...person, groups: [1] }, GENERIC_CLAIMS)).toBe('groups claim is not a list of strings');
    expect(reason({ ...person, email_verified: 'true' }, GENERIC_CLAIMS)).toBe('email_verified is not a boolean');
    expect(
      reason({ ...person, hd: 'evil.test' }, mapping({ requiredValues: [{ claim: 'hd', value: 'example.com' }] })),
    ).toBe('hd is not example.com');
  });
});

describe(callerIdOf.name, () => {
  it('keeps plain subjects and replaces any other by a stable digest no plain subject can equal', () => {
    expect(callerIdOf('00u1a2b3c4')).toBe('00u1a2b3c4');
    expect(callerIdOf('auth0|64f1c2')).toBe('auth0|64f1c2');
    const pairwise = callerIdOf('-AbC_dEf1gHiJk');
    expect(pairwise).toMatch(/^~[a-z2-7]{26}$/);
    expect(callerIdOf('-AbC_dEf1gHiJk')).toBe(pairwise);
    expect(callerIdOf('alice@example.com')).not.toContain('@');
    expect(callerIdOf('alice@example.com')).not.toBe(callerIdOf('bob@example.com'));
  });
});
