import type { NotificationEvent } from '../../contracts/notifications';

/** alice's prod-db request asking group security, as the workflow sends it; `overrides` change what a test needs. */
export function notificationEvent(overrides: Partial<NotificationEvent> = {}): NotificationEvent {
  return {
    kind: 'approval-requested',
    eventId: 'AccessRequest:req_1:notify:1',
    requestId: 'req_1',
    resourceId: 'prod-db',
    integration: 'demo',
    recipients: ['group:security'],
    at: '2026-01-01T00:00:00.000Z',
    details: { requester: 'alice' },
    ...overrides,
  };
}
