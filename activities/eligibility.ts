import type { ActivityContext } from './context';
import type { EligibilityInput, EligibilityVerdict } from './types';

export function eligibilityActivities(context: ActivityContext) {
  return {
    /**
     * A scheduled request at its start, asked again under the policy this worker holds. A worker that
     * cannot ask says not eligible: access nobody can show to be allowed is not granted.
     */
    async checkStillEligible(input: EligibilityInput): Promise<EligibilityVerdict> {
      if (!context.eligibility) {
        return {
          eligible: false,
          code: 'eligibility-unknown',
          rule: 'worker',
          message: 'this worker cannot evaluate the policy, so eligibility at the start could not be shown',
        };
      }
      const verdict = await context.eligibility(input);
      context.log('scheduled request checked at its start', { eligible: verdict.eligible });
      return verdict;
    },
  };
}
