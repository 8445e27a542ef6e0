import { parsePolicy } from '../../policy';
import { VALID_POLICY } from '../../test/support/policy-fixtures';
import { checkTargets, createTargetPorts } from './targets';

describe(checkTargets.name, () => {
  const policy = parsePolicy(
    VALID_POLICY.replace(
      'resources:',
      `targets:
  - name: app-db
    kind: postgres
    admin: { env: APP_DB_ADMIN_URL }
  - name: shell
    kind: command
    command: [/bin/sh]
  - name: payments
    kind: command
    command: [/nonexistent/rotate-payments]
resources:`,
    ),
    'policy.yaml',
  );

  it('says which targets this worker reaches, and never prints the admin URL’s password', async () => {
    const ports = createTargetPorts(policy, { APP_DB_ADMIN_URL: 'postgres://admin:hunter2@127.0.0.1:1/app' });
    const sut = await checkTargets(policy, ports);
    expect(sut.map(({ target, ok }) => [target, ok])).toEqual([
      ['app-db', false],
      ['shell', true],
      ['payments', false],
    ]);
    expect(sut[2].message).toBe('/nonexistent/rotate-payments cannot be run by this worker');
    expect(JSON.stringify(sut)).not.toContain('hunter2');
  });

  it('names a missing admin URL source', async () => {
    const [finding] = await checkTargets(policy, createTargetPorts(policy, {}));
    expect(finding).toMatchObject({ target: 'app-db', ok: false });
    expect(finding.message).toMatch(/APP_DB_ADMIN_URL is not set/);
  });
});
