import type { GrantGuarantee } from '../contracts/request';
import type { GrantSpec } from '../contracts/snapshot';

export type GrantMode = GrantGuarantee['mode'];

export function grantModeOf(grant: GrantSpec): GrantMode {
  if (grant.mode !== 'share-link') return grant.mode;
  return grant.rotateOnRevoke ? 'rotate-on-revoke' : 'share-link';
}

/**
 * What really happens at the end of access, per mode (BRIEF §5). A rotation promises that the credential
 * stops working only when something changes it where it is used; with `rotator: none` (or in a request
 * made before rotators existed) only the 1Password item changes, and the statement says so.
 */
export function guaranteeFor(grant: GrantSpec, endsAt: string, providerExpiresAt?: string): GrantGuarantee {
  const mode = grantModeOf(grant);
  switch (mode) {
    case 'share-link':
      return {
        mode,
        statement: `viewable once, by the requester's e-mail, until ${providerExpiresAt ?? endsAt}; a share link cannot be withdrawn early`,
      };
    case 'vault-group':
      return { mode, statement: `1Password access removed at ${endsAt}` };
    case 'database-role':
      return { mode, statement: `a database login of your own, refused by the database after ${endsAt}` };
    case 'rotate-on-revoke': {
      const rotator = grant.mode === 'share-link' ? grant.rotator : undefined;
      if (rotator?.kind === 'postgres' || rotator?.kind === 'command')
        return { mode, statement: `the credential you saw stops working at ${endsAt}` };
      return {
        mode,
        statement: `the 1Password item gets a new secret at ${endsAt}; only the item changes: the secret you saw keeps working wherever it is used until someone changes it there`,
      };
    }
  }
}
