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
import type { AccessRequestState } from '../../contracts/request';
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
import { revoke, withdrawWhileGranting } from './end-of-access';
import { approveExtension, rejectExtension, requestExtension } from './extension';
import type { AccessRequestRun } from './run';

/** Largest free text an Update takes (comments, reasons, justifications). */
const MAX_TEXT = 1000;

interface UpdateRule<Args extends { actor: Actor }, Admitted> {
  update: UpdateDefinition<AccessRequestState, [Args]>;
  /** Free-text arguments, checked for type and length before anything else. */
  text: Array<Exclude<keyof Args, 'actor'> & string>;
  /** Who may send it, in which states, with which arguments: a rule of domain/request-rules.ts. */
  admit(run: AccessRequestRun, actor: Actor, args: Args): Decision<Admitted>;
  /** What it changes; the Update answers when this settles. */
  apply(run: AccessRequestRun, actor: Actor, args: Args, admitted: Admitted): Promise<void> | void;
}

/**
 * Every Update of an access request, declared once. The validator runs the checks and refuses (a
 * refused Update writes nothing to history); the handler runs the same checks again, because replay
 * runs handlers without validators, then applies the change. Every Update answers with the state.
 */
const UPDATE_RULES = [
  rule({
    update: approveUpdate,
    text: ['comment'],
    admit: (run, actor) => checkApprove(run.snapshot, run.state, actor),
    apply: (run, actor, { comment }, tier) => {
      const record = approvalRecord(run, actor, tier, comment);
      return decisionTarget(run.state) === 'extension' ? approveExtension(run, record) : approveRequest(run, record);
    },
  }),
  rule({
    update: rejectUpdate,
    text: ['comment'],
    admit: (run, actor) => checkReject(run.snapshot, run.state, actor),
    apply: (run, actor, { comment }) =>
      decisionTarget(run.state) === 'extension' ? rejectExtension(run) : rejectRequest(run, actor.id, comment),
  }),
  rule({
    update: cancelUpdate,
    text: ['reason'],
    admit: (run, actor) => checkCancel(run.state, actor, { whileGranting: run.alwaysEnds }),
    apply: (run, actor, { reason }) =>
      run.state.status === 'APPROVED' ? withdrawWhileGranting(run, actor.id, reason) : withdraw(run, actor.id, reason),
  }),
  rule({
    update: revokeUpdate,
    text: ['reason'],
    admit: (run, actor) => checkRevoke(run.snapshot, run.state, actor, { whileGranting: run.alwaysEnds }),
    apply: (run, actor, { reason }) => revoke(run, actor.id, reason),
  }),
  rule({
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

function rule<Args extends { actor: Actor }, Admitted>(spec: UpdateRule<Args, Admitted>) {
  const admitted = (run: AccessRequestRun, args: Args) => {
    const actor = actorOf(args);
    const clean = { ...args };
    for (const field of spec.text) clean[field] = optionalText(args[field], field) as Args[typeof field];
    const decision = spec.admit(run, actor, clean);
    if (!decision.ok) {
      throw ApplicationFailure.create({ type: decision.refusal, message: decision.reason, nonRetryable: true });
    }
    return { actor, args: clean, value: decision.value };
  };
  return (run: AccessRequestRun) =>
    setHandler(
      spec.update,
      async (args: Args) => {
        const { actor, args: clean, value } = admitted(run, args);
        await spec.apply(run, actor, clean, value);
        return run.state;
      },
      { validator: (args: Args) => void admitted(run, args) },
    );
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: REFUSAL.invalid, message, nonRetryable: true });
}

/** The actor comes from the API's verified token; an Update without one is refused. */
function actorOf(args: unknown): Actor {
  const actor = (args as { actor?: Partial<Actor> } | undefined)?.actor;
  const valid =
    !!actor &&
    typeof actor.id === 'string' &&
    actor.id !== '' &&
    Array.isArray(actor.groups) &&
    Array.isArray(actor.roles);
  if (!valid) throw invalid('the update needs an actor');
  return actor as Actor;
}

function optionalText(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > MAX_TEXT) {
    throw invalid(`${name} must be text of at most ${MAX_TEXT} characters`);
  }
  return value;
}
