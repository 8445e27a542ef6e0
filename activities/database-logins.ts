import { TargetError } from '../targets/port';
import type { ActivityContext } from './context';
import { endingAttempt, isGone } from './ending';
import { callTarget, callOnePassword } from './failures';
import { heartbeating } from './heartbeat';
import { newSecret } from './rotation';
import type {
  CreateDatabaseLoginInput,
  CreateLoginItemInput,
  CreatedDatabaseLogin,
  DatabaseLoginInput,
  LoginItemInput,
} from './types';

/**
 * Database-role grants: a PostgreSQL login of the request's own (`lk_<request id>`), carried to the requester
 * in a 1Password item shared by a one-view link, and dropped when access ends. The database itself refuses
 * the login after its `VALID UNTIL`, even if latchkey were down.
 */
export function databaseLoginActivities(deps: ActivityContext) {
  const logins = (target: string) => {
    if (!deps.targets) throw new TargetError('invalid-argument', 'this worker was started without targets');
    return deps.targets.databaseLogins(target);
  };
  const subject = (input: { idempotencyKey: string; integration: string; resourceId: string }) => ({
    step: input.idempotencyKey,
    integration: input.integration,
    resourceId: input.resourceId,
  });
  /** The item an earlier attempt made, found by its title (1Password takes no idempotency key). */
  const findItem = (input: LoginItemInput) =>
    deps.onePassword(input.integration).findItemId(input.vaultId, input.title);

  return {
    /**
     * Makes the login with a new password, valid until the grant's end. A retry after a lost answer sets a
     * new password on the same role: only the password this attempt returns is ever delivered.
     */
    async createDatabaseLogin(input: CreateDatabaseLoginInput): Promise<CreatedDatabaseLogin> {
      const password = newSecret();
      const login = await callTarget(async () => {
        const target = logins(input.target);
        await heartbeating(() =>
          target.ensureLogin({
            role: input.role,
            password,
            validUntil: input.validUntil,
            memberOf: input.memberOf,
            connectionLimit: input.connectionLimit,
          }),
        );
        return { password, connection: target.connectionInfo() };
      });
      deps.log('database login made', { step: input.idempotencyKey, role: input.role, validUntil: input.validUntil });
      return login;
    },

    /** The 1Password item that carries the login; an item an earlier attempt made is brought up to date. */
    async createLoginItem(input: CreateLoginItemInput): Promise<{ itemId: string }> {
      const port = deps.onePassword(input.integration);
      return callOnePassword(() =>
        heartbeating(async () => {
          const earlier = await findItem(input);
          if (earlier) {
            await port.setItemSecret({
              vaultId: input.vaultId,
              itemId: earlier,
              secret: input.password,
              reference: input.idempotencyKey,
            });
            return { itemId: earlier };
          }
          const { host, port: dbPort, database } = input.connection;
          const item = await port.createItem({
            vaultId: input.vaultId,
            title: input.title,
            category: 'Database',
            fields: [
              { id: 'username', title: 'username', type: 'text', value: input.role },
              { id: 'password', title: 'password', type: 'concealed', value: input.password },
              { id: 'hostname', title: 'server', type: 'text', value: host },
              { id: 'port', title: 'port', type: 'text', value: String(dbPort) },
              { id: 'database', title: 'database', type: 'text', value: database },
            ],
            tags: ['latchkey', 'database-login'],
            reference: input.idempotencyKey,
          });
          deps.log('login item made', { step: input.idempotencyKey, itemId: item.id });
          return { itemId: item.id };
        }),
      );
    },

    /** An extension: the database accepts the login until the new end. */
    async extendDatabaseLogin(input: DatabaseLoginInput & { validUntil: string }): Promise<void> {
      await callTarget(() => logins(input.target).setValidUntil(input.role, input.validUntil));
      deps.log('database login extended', {
        step: input.idempotencyKey,
        role: input.role,
        validUntil: input.validUntil,
      });
    },

    /** Ends the login: memberships revoked, its sessions ended, the role dropped. Retried without limit. */
    async dropDatabaseLogin(input: DatabaseLoginInput): Promise<{ existed: boolean; sessionsEnded: number }> {
      const dropped = await endingAttempt(deps, subject(input), () =>
        heartbeating(() => logins(input.target).dropLogin(input.role)),
      );
      deps.log('database login dropped', { step: input.idempotencyKey, role: input.role, ...dropped });
      return dropped;
    },

    /** The login's item goes too (its password no longer works anywhere). One already deleted is fine. */
    async deleteLoginItem(input: LoginItemInput): Promise<{ deleted: boolean }> {
      const port = deps.onePassword(input.integration);
      return endingAttempt(deps, subject(input), () =>
        heartbeating(async () => {
          const itemId = await findItem(input);
          if (!itemId) return { deleted: false };
          try {
            await port.deleteItem(input.vaultId, itemId);
          } catch (error) {
            if (!isGone(error)) throw error;
          }
          return { deleted: true };
        }),
      );
    },
  };
}
