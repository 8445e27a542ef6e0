/**
 * Policy as code: the YAML policy (config/policy.yaml, schema config/policy.schema.json), its checks,
 * and the pure evaluation that turns a request into a flow snapshot or a refusal. docs/policy.md
 * documents the format.
 */
export { formatIssue, PolicyError, type PolicyIssue } from './errors';
export {
  evaluateRequest,
  integrationsOf,
  requestableResources,
  type AccessRequestDraft,
  type Evaluation,
  type Refusal,
  type RefusalCode,
  type RequestableResource,
} from './evaluate';
export { loadPolicyFile, parsePolicy, POLICY_DEFAULTS } from './load';
export type * from './model';
export { POLICY_SCHEMA } from './schema';
export { evaluateAgain, type RecordedRequest, type Simulation, simulateRequest } from './simulate';
