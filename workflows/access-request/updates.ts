import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { Actor } from '../../contracts/identity';
import {
  approveUpdate,
  cancelUpdate,
  extendUpdate,
  REFUSAL,
  rejectUpdate,
  revokeUpdate,
} from '../../contracts/messages';
import type { SignedCommand } from '../../contracts/command';
import type {
  AccessRequestState,
  ApproveArgs,
  CancelArgs,
  ExtendArgs,
  RejectArgs,
  RevokeArgs,
} from '../../contracts/request';
import type { Decision } from '../../domain/decision';
import {
  checkApprove,
  checkCancel,
  checkExtend,
  checkReject,
  checkRevoke,
  decisionTarget,
} from '../../domain/request-rules';
import { approvalRecord, approveRequest, rejectRequest, withdraw } from './approval';
import { ratify, refuseRatification } from './break-glass';
import { type Command, recordedCommand, verifiedCommand } from './commands';
import { revoke, withdrawWhileGranting } from './end-of-access';
import { approveExtension, rejectExtension, requestExtension } from './extension';
import type { AccessRequestRun } from './run';

/** Largest free text an Update takes (comments, reasons, justifications). */
const MAX_TEXT = 1000;

interface UpdateRule<Args extends object, Admitted> {
  update: UpdateDefinition<AccessRequestState, [SignedCommand]>;
  /** Free-text arguments, checked for type and length before anything else. */
  text: Array<keyof Args & string>;
  /** Who may send it, in which states, with which arguments: a rule of domain/request-rules.ts. */
  admit(run: AccessRequestRun, actor: Actor, args: Args): Decision<Admitted>;
  /** What it changes; the Update answers when this settles. */
  apply(run: AccessRequestRun, actor: Actor, args: Args, admitted: Admitted): Promise<void> | void;
}

/**
 * Every Update of an access request, declared once. The validator checks the signed command (who, for
 * this request, not used before), then the rule, and refuses (a refused Update writes nothing to history);
 * the handler runs the rule again, because replay runs handlers without validators, then applies the change.
 * Every Update answers with the state.
 */
const UPDATE_RULES = [
  rule<ApproveArgs, number>({
    update: approveUpdate,
    text: ['comment'],
    admit: (run, actor) => checkApprove(run.snapshot, run.state, actor),
    apply: (run, actor, { comment }, tier) => {
      const target = decisionTarget(run.state);
      if (target === 'ratification') return ratify(run, actor, comment);
      const record = approvalRecord(run, actor, tier, comment);
      return target === 'extension' ? approveExtension(run, record) : approveRequest(run, record);
    },
  }),
  rule<RejectArgs, void>({
    update: rejectUpdate,
    text: ['comment'],
    admit: (run, actor) => checkReject(run.snapshot, run.state, actor),
    apply: async (run, actor, { comment }) => {
      const target = decisionTarget(run.state);
      if (target === 'ratification') {
        await refuseRatification(run, actor, comment);
        return revoke(run, actor.id, comment ?? 'break-glass access refused at ratification');
      }
      return target === 'extension' ? rejectExtension(run, actor.id, comment) : rejectRequest(run, actor.id, comment);
    },
  }),
  rule<CancelArgs, void>({
    update: cancelUpdate,
    text: ['reason'],
    admit: (run, actor) => checkCancel(run.state, actor, { whileGranting: run.alwaysEnds }),
    apply: (run, actor, { reason }) =>
      run.state.status === 'APPROVED' ? withdrawWhileGranting(run, actor.id, reason) : withdraw(run, actor.id, reason),
  }),
  rule<RevokeArgs, void>({
    update: revokeUpdate,
    text: ['reason'],
    admit: (run, actor) => checkRevoke(run.snapshot, run.state, actor, { whileGranting: run.alwaysEnds }),
    apply: (run, actor, { reason }) => revoke(run, actor.id, reason),
  }),
  rule<ExtendArgs, unknown>({
    update: extendUpdate,
    text: ['justification'],
    admit: (run, actor, { addMs }) =>
      checkExtend(run.snapshot, run.state, actor, addMs, { renewsLink: run.renewsLink, nowMs: Date.now() }),
    apply: (run, actor, { addMs, justification }) => requestExtension(run, actor.id, addMs, justification),
  }),
];

export function registerUpdates(run: AccessRequestRun): void {
  for (const register of UPDATE_RULES) register(run);
}

function rule<Args extends object, Admitted>(spec: UpdateRule<Args, Admitted>) {
  const kind = spec.update.name as 'approve' | 'reject' | 'cancel' | 'revoke' | 'extend';
  const admitted = (run: AccessRequestRun, command: Command<Args>) => {
    const clean = { ...command.args };
    for (const field of spec.text) clean[field] = optionalText(command.args[field], field) as Args[typeof field];
    const decision = spec.admit(run, command.actor, clean);
    if (!decision.ok) {
      throw ApplicationFailure.create({ type: decision.refusal, message: decision.reason, nonRetryable: true });
    }
    return { actor: command.actor, args: clean, value: decision.value };
  };
  return (run: AccessRequestRun) =>
    setHandler(
      spec.update,
      async (raw: SignedCommand) => {
        const command = recordedCommand<Args>(raw);
        if (command.nonce !== undefined) run.commandNonces.add(command.nonce);
        const { actor, args, value } = admitted(run, command);
        await spec.apply(run, actor, args, value);
        return run.state;
      },
      { validator: (raw: SignedCommand) => void admitted(run, verifiedCommand<Args>(run, kind, raw)) },
    );
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: REFUSAL.invalid, message, nonRetryable: true });
}

function optionalText(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > MAX_TEXT) {
    throw invalid(`${name} must be text of at most ${MAX_TEXT} characters`);
  }
  return value;
}
