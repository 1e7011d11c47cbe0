/**
 * The emails LiteLLM's email callbacks send, as subject and HTML: a key created (or rotated) for a user, and a new
 * user's invitation. The facts are LiteLLM's (recipient, the key and its budget, the proxy's base URL, the support
 * contact, the logo), plus the key's alias, last characters and models. Every value is HTML-escaped: aliases,
 * emails and model names come from API callers; only EMAIL_SIGNATURE, the operator's own footer, is HTML as given.
 */
import { escapeHtml } from '../../lib/html.ts';
import type { EmailEventKind, EmailSettings } from './settings.ts';

export interface RenderedEmail {
  /** One address, or several for one email to all of them (a team's soft budget list, as LiteLLM sends it). */
  to: string | string[];
  subject: string;
  html: string;
}

export interface KeyEmailFacts {
  recipient: string;
  /** The plain key: in the email unless EMAIL_INCLUDE_API_KEY is false, never anywhere else. */
  key: string;
  /** The key's abbreviation (`sk-...abcd`), shown whether or not the key itself is. */
  keyName: string;
  keyAlias: string | null;
  maxBudget: number | null;
  models: readonly string[];
}

/** LiteLLM's event messages, which its subjects carry (`LiteLLM: {event_message}`). */
const EVENT_MESSAGES: Record<EmailEventKind, string> = {
  new_user_invitation: 'Welcome to LiteLLM Proxy',
  virtual_key_created: 'API Key Created',
  virtual_key_rotated: 'API Key Rotated',
};
const DEFAULT_SUBJECT = 'LiteLLM: {event_message}';
/** LiteLLM's text in place of the key when EMAIL_INCLUDE_API_KEY is false. */
export const HIDDEN_KEY = '[Key hidden for security - retrieve from dashboard]';

export function emailSubject(kind: EmailEventKind, settings: Pick<EmailSettings, 'subjects'>): string {
  return (settings.subjects[kind] ?? DEFAULT_SUBJECT).replaceAll('{event_message}', EVENT_MESSAGES[kind]);
}

/** LiteLLM's budget line: `$100` or "No budget". */
const formatBudget = (maxBudget: number | null): string => (maxBudget == null ? 'No budget' : `$${maxBudget}`);

/** An email's facts, one labelled line each; the values escaped (the labels are ours). */
export function rows(lines: [string, string][]): string {
  return lines.map(([label, value]) => `<p style="margin:0"><strong>${label}:</strong> ${escapeHtml(value)}</p>`).join('\n');
}

/** The key-created email (LiteLLM's "Your API Key is Ready"), or the same for a rotated key. */
export function keyEmail(kind: 'virtual_key_created' | 'virtual_key_rotated', facts: KeyEmailFacts, settings: EmailSettings): RenderedEmail {
  const key = escapeHtml(settings.includeKey ? facts.key : HIDDEN_KEY);
  const lead = kind === 'virtual_key_created' ? 'Your API key is ready to use.' : 'Your API key was rotated: the key below replaces the one you had.';
  const details = rows([
    ...(facts.keyAlias ? [['Key alias', facts.keyAlias] as [string, string]] : []),
    ['Key', facts.keyName],
    ['Budget', formatBudget(facts.maxBudget)],
    ['Models', facts.models.length ? facts.models.join(', ') : 'All models the key\'s team or user may call'],
  ]);
  const body = `<p>Hi ${escapeHtml(facts.recipient)},</p>
<p>${lead}</p>
<div style="background:#f0fdf4;border:1px solid #dcfce7;border-radius:6px;padding:14px 16px">
${details}
</div>
<p><strong>Your API Key</strong></p>
<pre style="background:#f9fafb;border:1px solid #e5e7eb;border-radius:6px;padding:16px;white-space:pre-wrap;word-break:break-all">${key}</pre>
<h2 style="font-size:18px">Quick Start Guide</h2>
<p>Here's how to use your key with the OpenAI SDK:</p>
<pre style="background:#f8fafc;border:1px solid #e2e8f0;border-radius:8px;padding:20px">import openai

client = openai.OpenAI(
  api_key="${key}",
  base_url="${escapeHtml(settings.baseUrl)}"
)</pre>`;
  return { to: facts.recipient, subject: emailSubject(kind, settings), html: page('Your API Key is Ready', body, settings) };
}

/** The invitation's link: the invitation page (EMAIL_INVITATION_BASE_URL, else `{PROXY_BASE_URL}/ui`) with `invitation_id`. */
export function invitationLink(settings: Pick<EmailSettings, 'invitationUrl'>, invitationId: string): string {
  const separator = settings.invitationUrl.includes('?') ? '&' : '?';
  return `${settings.invitationUrl}${separator}invitation_id=${encodeURIComponent(invitationId)}`;
}

/** The invitation LiteLLM sends a user created with `send_invite_email`: a link to accept it. */
export function invitationEmail(facts: { recipient: string; link: string }, settings: EmailSettings): RenderedEmail {
  const body = `<h1 style="font-size:24px">Welcome to LiteLLM</h1>
<p>Hi ${escapeHtml(facts.recipient)},</p>
<p>You have been invited to an LLM gateway that calls 100+ LLM providers in the OpenAI API format. Get started by accepting your invitation.</p>
<p style="text-align:center"><a href="${escapeHtml(facts.link)}" style="display:inline-block;padding:12px 24px;background:#5c5ce0;color:#ffffff;text-decoration:none;border-radius:6px">Accept Invitation</a></p>`;
  return { to: facts.recipient, subject: emailSubject('new_user_invitation', settings), html: page('Welcome to LiteLLM', body, settings) };
}

/** The page around an email's body: logo, support line and footer when configured. */
export function page(title: string, body: string, settings: EmailSettings): string {
  const logo = settings.logoUrl ? `<div><img src="${escapeHtml(settings.logoUrl)}" alt="Logo" style="height:32px;width:auto"></div>\n` : '';
  const support = settings.supportContact ? `\n<p>If you have any questions or need assistance, please contact us at ${escapeHtml(settings.supportContact)}.</p>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="UTF-8"><meta name="viewport" content="width=device-width, initial-scale=1.0"><title>${escapeHtml(title)}</title></head>
<body style="margin:0;padding:0;background:#f8fafc;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#333333;line-height:1.5">
<div style="max-width:560px;margin:20px auto;background:#ffffff;border-radius:8px;padding:32px 40px">
${logo}${body}${support}
${settings.signature ?? ''}
</div>
</body>
</html>
`;
}
