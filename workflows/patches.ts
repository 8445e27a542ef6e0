/**
 * Patch ids (`patched()`): each marks a change of the workflows' commands. Requests and leases started
 * before a patch replay and go on along the old path; new ones take the new path. Once no workflow
 * started before a patch is open, it becomes `deprecatePatch()` and then the old path goes
 * (README: "Changing the workflow while requests are in flight").
 */

/**
 * Access always ends: an ENDING status, the end retried by Temporal without limit with an alert timer
 * racing it, stopping a request while its grant is being made, and vault-lease holders that carry the
 * end of their grant.
 */
export const ACCESS_ALWAYS_ENDS = 'access-always-ends';

/**
 * The vault lease converges on what 1Password really holds: a fresh run reads it first, a failed grant
 * counts as possibly applied, holders past their end are dropped, and revokes are retried by Temporal.
 */
export const LEASE_CONVERGES = 'lease-converges';

/**
 * The reconciler rotates a terminated request's secret through a workflow named after the request, so
 * that a later pass does not rotate it again (1Password takes no idempotency key). A pass that was in
 * flight at the deployment finishes with the activity it had scheduled.
 */
export const RECONCILE_ROTATES_ONCE = 'reconcile-rotates-once';

/**
 * An extension of a share-link grant past the link's expiry is accepted: once approved, a new link covering the
 * new end is made and handed out in place of the old one. Requests started before refuse such an extension.
 */
export const EXTENSION_RENEWS_LINK = 'extension-renews-link';

/**
 * Commands are signed by the API (trust/command.ts): a request checks its signed start before anything else.
 * Requests started before have no signed start; their Updates are checked like every other's.
 */
export const SIGNED_COMMANDS = 'signed-commands';

/**
 * Vault-lease messages carry a MAC only workers can make (trust/internal-message.ts): a lease acts only on
 * messages from latchkey's activities, a fresh lease brings nothing in its input, and requests and the
 * reconciler take only the lease's own answers.
 */
export const LEASE_MESSAGES_AUTHENTICATED = 'lease-messages-authenticated';

/**
 * Notifications go out without holding the request up (awaited only before the workflow ends); decisions are
 * told to the requester and the other approvers, updating the messages that asked them; the requester is warned
 * before access ends. Requests started before await each notification in line and send none of these.
 */
export const NOTIFIES_PEOPLE = 'notifies-people';

/**
 * Decisions are findable: the people who decided a request are a search attribute (LatchkeyDeciders), so that
 * an approver finds what they decided before, and an extension waiting for approval lists its approvers in
 * LatchkeyPendingApprovers, so that it shows in their inbox. Requests started before publish neither (their
 * first approval of several, or an extension asked, would have upserted nothing).
 */
export const DECISIONS_FINDABLE = 'decisions-findable';

/**
 * One marker instead of many: a request started since carries this patch alone, and every patch of a request
 * above (access-always-ends, notifies-people, decisions-findable, extension-renews-link, signed-commands,
 * lease-messages-authenticated) holds for it without a marker of its own. Each marker was a history event and,
 * since the SDK records patches in the TemporalChangeVersion search attribute, a visibility write. Requests
 * started before ask each patch as they always did. Folded in turn by `visibility-once-per-change`.
 */
export const REQUEST_PATCHES_FOLDED = 'request-patches-folded';

/**
 * Visibility is written once per change. A request started since carries this patch alone: every patch above,
 * `request-patches-folded` included, holds for it. It does not write again the search attributes and the memo its
 * start carried (the API starts requests with them: `visibilityAtStart`), and a share link left to expire goes from
 * ACTIVE to its end in one upsert, without an ENDING that no call stands behind: three history events and visibility
 * updates fewer per share-link request. (The server's cost follows the workflow tasks that write visibility more than
 * the updates in them, so it saves less than three.)
 * Folded in turn by `state-from-input`.
 */
export const VISIBILITY_ONCE_PER_CHANGE = 'visibility-once-per-change';

/**
 * A request's state at its start follows from its input alone (domain/lifecycle.ts `stateAtRequest`): its clocks run
 * from the moment the API accepted it (`requestedAt`), not from its first workflow task, and its first publication
 * changes nothing. The API answers a create with that state instead of querying the new workflow: a query arriving
 * with the first workflow task, while the start's check (a local activity) is still running, made the worker ask
 * for one more workflow task for every request. A request started since carries this patch alone: every patch above,
 * `visibility-once-per-change` included, holds for it.
 */
export const STATE_FROM_INPUT = 'state-from-input';
