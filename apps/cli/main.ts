#!/usr/bin/env node
import { loadCliSignInSettings } from '../../config/cli';
import { loadConfig } from '../../config/config';
import { REQUESTER_COMMANDS, runRequesterCommand } from './commands/requester';
import { processIo, type CommandIo } from './io';

const USAGE = `latchkey <command>

  policy check FILE                 validate a policy file and summarise it
  policy explain --user ID --groups a,b --resource R [--duration PT2H]
                                    dry run: which flow applies, who approves, or why it is refused
  token --sub ID --email E --groups a,b [--roles auditor,admin] [--ttl 8h]
                                    mint a development token (local signing key)
  keys init [--command-signing-key F] [--trusted-command-keys F] [--codec-key F] [--internal-key F]
                                    make a deployment's keys once (mode 0600, never overwritten)
  rate-ledger init --admin-url URL --admin-password-file F --url-file F
                                    make the database where the workers share their 1Password rate budgets
  local-1password state|access|faults|reset
                                    inspect or drive the local 1Password
  replay (--request ID | --query Q | --file F | --all)
                                    replay recorded histories against the current workflow code
  audit export [--since T] [--query Q] [--out FILE]
  audit verify FILE --keys JWKS     check an export offline: its chain, its signatures and every decision's
                                    signed command (--keys: the audit key and the API's command keys)
  audit public-key                  print the audit signing key's public half (a JWK Set)
  onepassword check [--integration NAME] [--json]
                                    what each integration's service account can do, and what of the policy it
                                    cannot serve
  reconcile [--dry-run] [--json]    compare 1Password's group permissions with the active grants; remove
                                    what no grant explains (with --dry-run: only name it)

Asking for access, and approving (over the API at LATCHKEY_API_URL; docs/cli.md):

  login [--as ID]                   sign in: as one of the directory's people (local auth mode), or at your
                                    identity provider with a code (the device flow)
  logout                            forget the sign-in
  request RESOURCE [--for 2h] --why "..." [--ticket T] [--wait]
                                    ask for access; --wait follows it until access is granted or it ends
  inbox [--json]                    requests waiting for my approval
  approve ID [--comment "..."]      approve a request (or an extension of it)
  reject ID --comment "..."         reject it, saying why
  status [ID] [--json]              one request in detail; without ID, my requests
  grant ID                          the way in while access is active: the share link, the access details
  extend ID --by 1h [--why "..."]   ask for more time
  give-back ID [--why "..."]        end my access now
  withdraw ID [--why "..."]         withdraw a request not granted yet`;

type Command = (argv: string[], io: CommandIo) => Promise<number>;

/** The requester's commands (light: fetch and a file) need only where the session is; it says which API to call. */
const requesterCommand =
  (name: string): Command =>
  (argv, io) =>
    runRequesterCommand(name, argv, io, { sessionFile: loadConfig().cli.sessionFile, progress: process.stderr });

/** Commands load lazily, so `token` does not pay for the Temporal worker's start-up. */
const commands: Record<string, Command> = {
  policy: async (argv, io) => (await import('./commands/policy.js')).runPolicyCommand(argv, io),
  token: async (argv, io) => (await import('./commands/token.js')).runTokenCommand(argv, io, loadConfig()),
  // No configuration: the compose setup service runs it before any latchkey process has its settings.
  keys: async (argv, io) => (await import('./commands/keys.js')).runKeysCommand(argv, io),
  'rate-ledger': async (argv, io) => (await import('./commands/rate-ledger.js')).runRateLedgerCommand(argv, io),
  'local-1password': async (argv, io) =>
    (await import('./commands/local-1password.js')).runLocalOnePasswordCommand(
      argv,
      io,
      loadConfig().localOnePassword.stateFile,
    ),
  replay: async (argv, io) => (await import('./commands/replay.js')).runReplayCommand(argv, io, loadConfig()),
  audit: async (argv, io) => (await import('./commands/audit.js')).runAuditCommand(argv, io, loadConfig()),
  onepassword: async (argv, io) =>
    (await import('./commands/onepassword.js')).runOnePasswordCommand(argv, io, loadConfig()),
  reconcile: async (argv, io) => (await import('./commands/reconcile.js')).runReconcileCommand(argv, io, loadConfig()),
  login: async (argv, io) =>
    (await import('./commands/login.js')).runLoginCommand(argv, io, {
      config: loadConfig(),
      signIn: loadCliSignInSettings(),
    }),
  logout: async (argv, io) =>
    (await import('./commands/login.js')).runLogoutCommand(argv, io, loadConfig().cli.sessionFile),
  ...Object.fromEntries(REQUESTER_COMMANDS.map((name) => [name, requesterCommand(name)])),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    processIo.out(USAGE);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    processIo.err(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return command(rest, processIo);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    processIo.err(`latchkey: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
