import { randomBytes } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { buildListQuery } from '../../apps/api/requests/visibility-query';
import { actorOf, type Caller } from '../../apps/api/identity/caller';
import type { CommandSigner } from '../../trust/command-signer';
import type { ResourceCatalog } from '../../contracts/catalog';
import { requestWorkflowId } from '../../domain/ids';
import { stateAtRequest } from '../../domain/lifecycle';
import { approveUpdate, stateQuery } from '../../contracts/messages';
import type { AccessRequestInput, AccessRequestState, RequestStatus } from '../../contracts/request';
import { TASK_QUEUE } from '../../contracts/task-queue';
import { evaluateRequest } from '../../policy';
import type { LoadedPolicy } from '../../policy/model';
import { visibilityAtStart } from '../../domain/visibility';
import { accessRequestWorkflow } from '../../workflows';
import type { Persona } from './api';

export function callerOf(persona: Persona): Caller {
  return { identity: { id: persona.sub, email: persona.email, groups: persona.groups }, roles: persona.roles };
}

/**
 * The API's operations done directly with the Temporal client, the way the API does them (same
 * policy evaluation, same start options, same visibility query), without HTTP, Nest or token checks.
 * The ratio between the two is what the API costs.
 */
export class DirectLatchkey {
  constructor(
    private readonly client: Client,
    private readonly policy: LoadedPolicy,
    private readonly catalog: ResourceCatalog,
    private readonly signer: CommandSigner,
  ) {}

  async create(requester: Persona, resourceId: string, duration: string): Promise<AccessRequestState> {
    const caller = callerOf(requester);
    const evaluation = evaluateRequest(this.policy, this.catalog, caller.identity, {
      resourceId,
      duration,
      justification: 'benchmark: direct client request',
    });
    if (!evaluation.ok) throw new Error(`policy refused: ${evaluation.refusal.message}`);
    const snapshot = evaluation.snapshot;
    const requestId = `req_${randomBytes(12).toString('hex')}`;
    const workflowId = requestWorkflowId(requestId);
    const input: AccessRequestInput = this.signer.signStart(workflowId, actorOf(caller), {
      requestId,
      requester: caller.identity,
      justification: 'benchmark: direct client request',
      requestedAt: new Date().toISOString(),
      snapshot,
    });
    await this.client.workflow.start(accessRequestWorkflow, {
      args: [input],
      workflowId,
      taskQueue: TASK_QUEUE,
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...visibilityAtStart(input),
    });
    return stateAtRequest(input);
  }

  handle(requestId: string): WorkflowHandle<typeof accessRequestWorkflow> {
    return this.client.workflow.getHandle<typeof accessRequestWorkflow>(requestWorkflowId(requestId));
  }

  approve(approver: Persona, requestId: string): Promise<AccessRequestState> {
    const handle = this.handle(requestId);
    const command = this.signer.sign('approve', handle.workflowId, actorOf(callerOf(approver)), {
      comment: 'benchmark',
    });
    return handle.executeUpdate(approveUpdate, { args: [command] });
  }

  /** The raw description: pending activities and workflow task included. */
  describeRaw(requestId: string) {
    return this.client.workflowService.describeWorkflowExecution({
      namespace: 'default',
      execution: { workflowId: requestWorkflowId(requestId) },
    });
  }

  query(requestId: string): Promise<AccessRequestState> {
    return this.handle(requestId).query(stateQuery);
  }

  async list(
    viewer: Persona,
    filter: { status?: RequestStatus; pendingMyApproval?: boolean; mine?: boolean },
    pageSize: number,
  ) {
    const query = buildListQuery(
      { workflowType: accessRequestWorkflow.name, taskQueue: TASK_QUEUE },
      callerOf(viewer),
      filter,
    );
    const answer = await this.client.workflowService.listWorkflowExecutions({ namespace: 'default', query, pageSize });
    return answer.executions ?? [];
  }
}
