import type { CommandKind, TrustedKeys } from '../contracts/command';
import { verifyCommand } from '../trust/command';
import type { AuditEntry } from './timeline';

/** The timeline entries that are decisions, and the signed command each must carry. */
export const DECISION_COMMANDS: Readonly<Record<string, CommandKind>> = {
  requested: 'start',
  approve: 'approve',
  reject: 'reject',
  cancel: 'cancel',
  revoke: 'revoke',
  extend: 'extend',
};

/** The words a timeline entry takes from its command's arguments: they must say the same. */
const ARGUMENT_FIELDS = ['comment', 'reason', 'justification', 'addMs'] as const;

export interface DecisionTally {
  /** Signed, with a valid signature from a trusted key, agreeing with the timeline. */
  signed: number;
  /** Recorded before signed commands: nothing to check, counted so that the auditor sees how many. */
  unsigned: number;
}

export interface TimelineRecord {
  requestId?: string;
  workflowId: string;
  entries: AuditEntry[];
}

/**
 * Checks every decision of one request's timeline offline: the command's signature against the trusted
 * command keys (`verifyCommand` without a clock: a signature, a kind, a request), and that its claims say
 * what the timeline says (who, which request, the words given). Returns why the first one fails, if one does.
 */
export function checkDecisions(timeline: TimelineRecord, keys: TrustedKeys, tally: DecisionTally): string | undefined {
  for (const entry of timeline.entries) {
    const kind = DECISION_COMMANDS[entry.kind];
    if (!kind) continue;
    const where = `request ${timeline.requestId ?? timeline.workflowId}, event ${entry.eventId} (${entry.kind})`;
    const command = entry.details?.command;
    if (command === undefined) {
      tally.unsigned += 1;
      continue;
    }
    const verdict = verifyCommand(command, keys, { kind, workflowId: timeline.workflowId });
    if (!verdict.ok) return `${where}: ${verdict.reason}`;
    if (verdict.claims.actor.id !== entry.actor) {
      return `${where}: the command is signed for "${verdict.claims.actor.id}", the timeline says "${String(entry.actor)}"`;
    }
    if (kind !== 'start') {
      for (const field of ARGUMENT_FIELDS) {
        // The timeline keeps words and numbers only (audit/timeline.ts), so a signed null is an absent field.
        const signed = verdict.claims.args[field];
        const kept = typeof signed === 'string' || typeof signed === 'number' ? signed : undefined;
        if (kept !== entry.details?.[field]) {
          return `${where}: the timeline's ${field} is not the one signed`;
        }
      }
    }
    tally.signed += 1;
  }
  return undefined;
}
