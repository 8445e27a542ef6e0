import type { GrantGuarantee } from '../contracts/request';
import type { GrantSpec } from '../contracts/snapshot';

export type GrantMode = GrantGuarantee['mode'];

export function grantModeOf(grant: GrantSpec): GrantMode {
  if (grant.mode === 'vault-group') return 'vault-group';
  return grant.rotateOnRevoke ? 'rotate-on-revoke' : 'share-link';
}

/** What 1Password really guarantees about the end of access, per mode (BRIEF §5). */
export function guaranteeFor(mode: GrantMode, endsAt: string, providerExpiresAt?: string): GrantGuarantee {
  switch (mode) {
    case 'share-link':
      return {
        mode,
        statement: `viewable once, by the requester's e-mail, until ${providerExpiresAt ?? endsAt}; a share link cannot be withdrawn early`,
      };
    case 'vault-group':
      return { mode, statement: `1Password access removed at ${endsAt}` };
    case 'rotate-on-revoke':
      return { mode, statement: `the credential you saw stops working at ${endsAt}` };
  }
}
