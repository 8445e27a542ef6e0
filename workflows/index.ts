/** Every workflow the latchkey worker runs (its `workflowsPath`). */
export { accessRequestWorkflow } from './access-request/workflow';
export { vaultLeaseWorkflow } from './vault-lease';
export { catalogWorkflow } from './catalog';
export { reconcileWorkflow, rotateAfterTerminationWorkflow } from './reconcile';
