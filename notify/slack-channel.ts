import { type Button, ErrorCode, type KnownBlock, type WebClient } from '@slack/web-api';
import type { Person } from '../contracts/identity';
import { type NotificationEvent, type NotificationReceipt, SLACK_ACTIONS } from '../contracts/notifications';
import { type Channel, type Delivery, DeliveryFailed } from './dispatcher';
import type { Message } from './messages';

/** Slack's mrkdwn treats these three as markup; everything else people wrote is shown as written. */
const escapeMrkdwn = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Slack through its Web API: approval requests go to the flow's channel (one message) or to each approver
 * directly, with Approve and Reject buttons; when the request is decided, those messages are updated to say
 * who decided, and the buttons go. Other events go to each person directly.
 */
export class SlackChannel implements Channel {
  readonly name = 'slack';

  constructor(private readonly slack: Pick<WebClient, 'chat'>) {}

  deliveries(event: NotificationEvent, people: Person[], message: Message): Delivery[] {
    const deliveries: Delivery[] = (event.updates ?? []).map((receipt) => ({
      key: `slack-update:${receipt.conversation}:${receipt.ts}`,
      send: () => this.update(receipt, event, message),
    }));
    const conversations =
      message.asksForDecision && event.route?.slackChannel
        ? [event.route.slackChannel]
        : people.flatMap((person) => (person.slack ? [person.slack] : []));
    for (const conversation of conversations) {
      deliveries.push({ key: `slack:${conversation}`, send: () => this.post(conversation, event, message) });
    }
    return deliveries;
  }

  private async post(conversation: string, event: NotificationEvent, message: Message) {
    const answer = await call(() =>
      this.slack.chat.postMessage({
        channel: conversation,
        text: message.subject,
        blocks: blocks(event, message, message.asksForDecision),
        unfurl_links: false,
      }),
    );
    // A message to a person lands in a direct conversation: updates need its id (D…), which Slack answers with.
    if (!message.asksForDecision || !answer.channel || !answer.ts) return undefined;
    const receipt: NotificationReceipt = { channel: 'slack', conversation: answer.channel, ts: answer.ts };
    return receipt;
  }

  private async update(receipt: NotificationReceipt, event: NotificationEvent, message: Message) {
    await call(() =>
      this.slack.chat.update({
        channel: receipt.conversation,
        ts: receipt.ts,
        text: message.subject,
        blocks: blocks(event, message, false),
      }),
    );
    return undefined;
  }
}

function blocks(event: NotificationEvent, message: Message, withButtons: boolean): KnownBlock[] {
  const result: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: [`*${escapeMrkdwn(message.subject)}*`, ...message.lines.map(escapeMrkdwn)].join('\n'),
      },
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `<${message.page}|${escapeMrkdwn(event.requestId)}> · ${escapeMrkdwn(event.integration)}`,
        },
      ],
    },
  ];
  if (withButtons) {
    result.push({
      type: 'actions',
      block_id: 'latchkey_decision',
      elements: [
        button(SLACK_ACTIONS.approve, 'Approve', 'primary', event.requestId),
        button(SLACK_ACTIONS.reject, 'Reject', 'danger', event.requestId),
      ],
    });
  }
  return result;
}

function button(actionId: string, label: string, style: 'primary' | 'danger', requestId: string): Button {
  return { type: 'button', action_id: actionId, text: { type: 'plain_text', text: label }, style, value: requestId };
}

/**
 * The SDK's errors carry Slack's error name (`channel_not_found`): that is what is logged. A rate limit is the
 * exception: rejected at once (rejectRateLimitedCalls), it comes as the SDK's own error, without Slack's answer.
 */
async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const { code, data } = (error ?? {}) as { code?: string; data?: { error?: string } };
    if (code === ErrorCode.RateLimitedError) throw new DeliveryFailed('ratelimited');
    throw new DeliveryFailed(data?.error ?? code ?? 'Slack call failed');
  }
}
