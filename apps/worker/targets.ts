import type { TargetPorts } from '../../activities';
import { readSecret } from '../../config/secrets';
import type { LoadedPolicy } from '../../policy';
import { CommandRotator } from '../../targets/command/command-rotator';
import { TargetError } from '../../targets/port';
import { PostgresTarget } from '../../targets/postgres/postgres-target';

/**
 * The systems behind the secrets that the policy names: one PostgresTarget per postgres target (its admin
 * URL read from its secret source at each connection, so a replaced one is used without a restart) and a
 * command rotator per command target.
 */
export function createTargetPorts(policy: LoadedPolicy, env?: NodeJS.ProcessEnv): TargetPorts {
  const postgres = new Map<string, PostgresTarget>();
  const commands = new Map<string, CommandRotator>();
  for (const target of policy.targets) {
    if (target.kind === 'postgres') {
      const adminUrl = () => {
        try {
          return readSecret(target.admin, env);
        } catch (error) {
          // Retried (and reported after a few attempts): fixing the source lets the work go on.
          throw new TargetError('auth', `no admin URL for target "${target.name}": ${(error as Error).message}`);
        }
      };
      postgres.set(target.name, new PostgresTarget({ name: target.name, adminUrl }));
    } else {
      commands.set(target.name, new CommandRotator({ command: target.command, timeoutMs: target.timeoutMs }));
    }
  }
  const unknown = (name: string) => new TargetError('invalid-argument', `the policy defines no target "${name}"`);
  return {
    rotator({ target, role, endSessions }) {
      const command = commands.get(target);
      if (command) return command;
      const database = postgres.get(target);
      if (!database) throw unknown(target);
      if (!role) throw new TargetError('invalid-argument', `a rotation on target "${target}" names no role`);
      return database.rotator(role, { endSessions });
    },
    databaseLogins(target) {
      const database = postgres.get(target);
      if (!database) throw unknown(target);
      return database;
    },
  };
}
