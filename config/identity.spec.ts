import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from './env-values';
import { parseOidcAuth } from './identity';

describe(parseOidcAuth.name, () => {
  const base = { LATCHKEY_AUTH_ISSUER: 'https://idp.example.com', LATCHKEY_AUTH_AUDIENCE: 'latchkey' };
  const sut = (env: Record<string, string>) => parseOidcAuth({ ...base, ...env }, 3600);

  it('sets each profile from how its provider shapes access tokens', () => {
    expect(sut({ LATCHKEY_AUTH_PROFILE: 'okta' })).toMatchObject({
      accessTokenMarks: [{ claim: 'scp' }],
      claims: { subject: ['uid', 'sub'], email: ['email', 'sub'], missingGroups: 'refuse' },
    });
    expect(sut({ LATCHKEY_AUTH_PROFILE: 'entra' }).claims).toMatchObject({
      subject: ['oid', 'sub'],
      email: ['email', 'preferred_username', 'upn'],
      unmappedGroups: 'drop',
    });
    expect(sut({ LATCHKEY_AUTH_PROFILE: 'keycloak' })).toMatchObject({
      accessTokenMarks: [{ claim: 'typ', value: 'Bearer' }],
      claims: { roles: ['realm_access.roles', 'resource_access.latchkey.roles'], groupPaths: 'keycloak' },
    });
    expect(
      sut({ LATCHKEY_AUTH_PROFILE: 'auth0', LATCHKEY_AUTH_CLAIM_NAMESPACE: 'https://latchkey.example.com/' }).claims,
    ).toMatchObject({ groups: ['https://latchkey.example.com/groups'] });
  });

  it('lets every part of the mapping be overridden', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-identity-'));
    const mapFile = path.join(dir, 'groups.yaml');
    fs.writeFileSync(mapFile, 'a1b2: engineering\n');
    try {
      expect(
        sut({
          LATCHKEY_AUTH_PROFILE: 'entra',
          LATCHKEY_AUTH_SUBJECT_CLAIMS: 'sub',
          LATCHKEY_AUTH_GROUPS_CLAIMS: 'groups,wids',
          LATCHKEY_AUTH_GROUP_MAP_FILE: mapFile,
          LATCHKEY_AUTH_ROLE_MAP: 'Latchkey.Admin=admin',
          LATCHKEY_AUTH_MISSING_GROUPS: 'empty',
          LATCHKEY_AUTH_ACCESS_TOKEN_CLAIMS: 'ver=2.0,scp',
          LATCHKEY_AUTH_REQUIRE_CLAIMS: 'tid=72f988bf',
        }),
      ).toMatchObject({
        accessTokenMarks: [{ claim: 'ver', value: '2.0' }, { claim: 'scp' }],
        claims: {
          subject: ['sub'],
          groups: ['groups', 'wids'],
          groupMap: { a1b2: 'engineering' },
          roleMap: { 'Latchkey.Admin': 'admin' },
          missingGroups: 'empty',
          requiredValues: [{ claim: 'tid', value: '72f988bf' }],
        },
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      { LATCHKEY_AUTH_PROFILE: 'ping' },
      'LATCHKEY_AUTH_PROFILE must be one of generic, okta, entra, auth0, keycloak, google-workspace',
    ],
    [{ LATCHKEY_AUTH_PROFILE: 'auth0' }, 'LATCHKEY_AUTH_CLAIM_NAMESPACE is required with LATCHKEY_AUTH_PROFILE=auth0'],
    [{ LATCHKEY_AUTH_PROFILE: 'google-workspace' }, 'set LATCHKEY_AUTH_INTROSPECTION_CLIENT_ID'],
    [{ LATCHKEY_AUTH_INTROSPECTION_CLIENT_ID: 'latchkey' }, 'go together'],
    [{ LATCHKEY_AUTH_ROLE_MAP: 'Owners=owner' }, 'a role is admin or auditor'],
    [{ LATCHKEY_AUTH_ROLE_MAP: 'Owners' }, 'LATCHKEY_AUTH_ROLE_MAP must be a comma-separated list of claim=value'],
    [
      { LATCHKEY_AUTH_GROUPS_CLAIMS: 'groups, ' },
      'LATCHKEY_AUTH_GROUPS_CLAIMS must be a comma-separated list of claim names',
    ],
    [{ LATCHKEY_AUTH_GROUP_MAP_FILE: '/nonexistent/groups.yaml' }, 'cannot be read: ENOENT'],
    [{ LATCHKEY_AUTH_ISSUER: 'idp.example.com' }, 'LATCHKEY_AUTH_ISSUER must be an http(s) URL'],
  ])('refuses %j with a message that says what to fix', (env, message) => {
    expect(() => sut(env as Record<string, string>)).toThrow(ConfigError);
    expect(() => sut(env as Record<string, string>)).toThrow(message);
  });
});
