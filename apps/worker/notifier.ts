import { LogLevel, WebClient } from '@slack/web-api';
import { createTransport } from 'nodemailer';
import type { Logger } from 'pino';
import type { LatchkeyConfig } from '../../config/config';
import { loadDirectory } from '../../config/directory';
import { readSecret } from '../../config/secrets';
import {
  type Channel,
  EmailChannel,
  NotificationDispatcher,
  type Notifier,
  SlackChannel,
  WebhookChannel,
} from '../../notify';

/**
 * The worker's notifier: every channel the deployment configures (e-mail, Slack, a webhook), to the people of
 * the directory. With none, notifications are only logged.
 */
export function notifierFor(config: LatchkeyConfig, logger: Logger): Notifier {
  const { email, slack, webhookUrl, webhookTokenFile } = config.notify;
  const channels: Channel[] = [];
  if (email) {
    const url = new URL(email.smtpUrl);
    if (email.passwordFile) url.password = encodeURIComponent(readSecret({ file: email.passwordFile }));
    // One attempt per call, bounded: the activity retries, resuming after what was delivered.
    const transport = createTransport({ url: url.toString(), connectionTimeout: 10_000, socketTimeout: 20_000 });
    channels.push(new EmailChannel(transport, email.from));
  }
  if (slack) {
    const client = new WebClient(readSecret({ file: slack.botTokenFile }), {
      ...(slack.apiUrl && { slackApiUrl: slack.apiUrl.endsWith('/') ? slack.apiUrl : `${slack.apiUrl}/` }),
      // A rate limit or an outage fails the attempt at once: Temporal's retry waits, not the worker's slot.
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: 10_000,
      logLevel: LogLevel.ERROR,
    });
    channels.push(new SlackChannel(client));
  }
  if (webhookUrl) {
    const token = webhookTokenFile ? readSecret({ file: webhookTokenFile }) : undefined;
    channels.push(
      new WebhookChannel({ url: webhookUrl, headers: token ? { authorization: `Bearer ${token}` } : undefined }),
    );
  }
  return new NotificationDispatcher({
    channels,
    directory: loadDirectory(config.directoryFile),
    publicUrl: config.api.publicUrl,
    logger,
  });
}
