import type { Transporter } from 'nodemailer';
import type { Person } from '../contracts/identity';
import type { NotificationEvent } from '../contracts/notifications';
import { type Channel, type Delivery, DeliveryFailed } from './dispatcher';
import type { Message } from './messages';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * E-mail over SMTP (nodemailer): one mail per person, with a Message-ID made from the event and the person, so
 * that a mail sent again by a retry that could not know the first went out is the same mail to the reader's client.
 */
export class EmailChannel implements Channel {
  readonly name = 'email';

  constructor(
    private readonly transport: Pick<Transporter, 'sendMail'>,
    private readonly from: string,
  ) {}

  deliveries(event: NotificationEvent, people: Person[], message: Message): Delivery[] {
    return people.map((person) => ({
      key: `email:${person.id}`,
      send: async () => {
        try {
          await this.transport.sendMail({
            from: this.from,
            to: person.name ? { name: person.name, address: person.email } : person.email,
            subject: `[latchkey] ${message.subject}`,
            text: plainText(message),
            html: html(message),
            messageId: `<${event.eventId.replace(/[^A-Za-z0-9._-]/g, '.')}.${person.id.replace(/[^A-Za-z0-9._-]/g, '.')}@latchkey>`,
            headers: { 'X-Latchkey-Event': event.kind, 'X-Latchkey-Request': event.requestId },
          });
          return undefined;
        } catch (error) {
          throw new DeliveryFailed(smtpReason(error));
        }
      },
    }));
  }
}

function plainText(message: Message): string {
  const links = message.links.map((link) => `${link.label}: ${link.method ? `${link.method} ` : ''}${link.url}`);
  return [...message.lines, '', ...links, ''].join('\n');
}

function html(message: Message): string {
  const lines = message.lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n');
  const links = message.links
    .map(
      (link) =>
        `<li>${link.method ? `${link.method} ` : ''}<a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></li>`,
    )
    .join('\n');
  return `<!doctype html><html><body>\n<h2>${escapeHtml(message.subject)}</h2>\n${lines}\n<ul>\n${links}\n</ul>\n</body></html>\n`;
}

/** nodemailer's errors may quote addresses back; only their code and SMTP status are logged. */
function smtpReason(error: unknown): string {
  const { code, responseCode } = (error ?? {}) as { code?: string; responseCode?: number };
  return [code, responseCode].filter((part) => part !== undefined).join(' ') || 'SMTP error';
}
