import { loadCliSignInSettings } from './cli';
import { ConfigError } from './env-values';

describe(loadCliSignInSettings.name, () => {
  it('defaults to the OpenID scopes, with no client and no resource', () => {
    expect(loadCliSignInSettings({})).toEqual({
      clientId: undefined,
      scope: 'openid email profile',
      resource: undefined,
    });
  });

  it('reads the client, the scopes and the resource indicator', () => {
    expect(
      loadCliSignInSettings({
        LATCHKEY_CLI_CLIENT_ID: '0oa1b2c3d4',
        LATCHKEY_CLI_SCOPE: 'openid api://latchkey/access_as_user',
        LATCHKEY_CLI_RESOURCE: 'https://latchkey.example.com/api',
      }),
    ).toEqual({
      clientId: '0oa1b2c3d4',
      scope: 'openid api://latchkey/access_as_user',
      resource: 'https://latchkey.example.com/api',
    });
  });

  it.each([
    [{ LATCHKEY_CLI_CLIENT_ID: 'my client' }, 'LATCHKEY_CLI_CLIENT_ID'],
    [{ LATCHKEY_CLI_SCOPE: 'openid  email' }, 'LATCHKEY_CLI_SCOPE'],
    [{ LATCHKEY_CLI_RESOURCE: 'latchkey' }, 'LATCHKEY_CLI_RESOURCE'],
    [{ LATCHKEY_CLI_RESOURCE: 'https://latchkey.example.com/api#x' }, 'fragment'],
  ])('refuses %j, naming the variable', (env, named) => {
    expect(() => loadCliSignInSettings(env)).toThrow(ConfigError);
    expect(() => loadCliSignInSettings(env)).toThrow(named);
  });
});
