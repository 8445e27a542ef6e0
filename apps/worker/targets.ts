import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TargetPorts } from '../../activities';
import { readSecret } from '../../config/secrets';
import type { LoadedPolicy } from '../../policy';
import { CommandRotator } from '../../targets/command/command-rotator';
import { DATABASE_LOGIN_PREFIX, TargetError } from '../../targets/port';
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

export interface TargetFinding {
  target: string;
  ok: boolean;
  message: string;
}

/**
 * What the worker can reach of the policy's targets, told at its start (the 1Password check's counterpart):
 * a postgres target answers with the admin URL's role, a command target's program can be run. Nothing is
 * refused on a finding: ending access keeps trying until the target answers.
 */
export async function checkTargets(policy: LoadedPolicy, ports: TargetPorts): Promise<TargetFinding[]> {
  return Promise.all(
    policy.targets.map(async (target): Promise<TargetFinding> => {
      if (target.kind === 'command') {
        try {
          fs.accessSync(target.command[0], fs.constants.X_OK);
          return { target: target.name, ok: true, message: `runs ${path.basename(target.command[0])}` };
        } catch {
          return { target: target.name, ok: false, message: `${target.command[0]} cannot be run by this worker` };
        }
      }
      try {
        const logins = await ports.databaseLogins(target.name).listLogins(DATABASE_LOGIN_PREFIX);
        return { target: target.name, ok: true, message: `reachable; ${logins.length} database login(s) of latchkey` };
      } catch (error) {
        return { target: target.name, ok: false, message: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}
