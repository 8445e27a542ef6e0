import type { EligibilityInput, EligibilityVerdict } from '../../activities';
import type { ResourceCatalog } from '../../contracts/catalog';
import { evaluateAgain, type LoadedPolicy } from '../../policy';

/**
 * Whether a scheduled request may still start: the request asked again, by the same person with the
 * groups their token had, under the policy (`policy()`, as this worker holds it now) and the current
 * catalog. A catalog nobody can read yet is an error (the activity is retried), never a yes.
 */
export function policyEligibility(
  policy: () => LoadedPolicy,
  catalog: () => Promise<ResourceCatalog | undefined>,
): (input: EligibilityInput) => Promise<EligibilityVerdict> {
  return async (input) => {
    const current = await catalog();
    if (!current) throw new Error('the resource catalog is not available yet');
    const evaluation = evaluateAgain(policy(), current, input);
    if (evaluation.ok) return { eligible: true };
    const { code, rule, message } = evaluation.refusal;
    return { eligible: false, code, rule, message };
  };
}
