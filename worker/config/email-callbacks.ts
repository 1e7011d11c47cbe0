/**
 * LiteLLM's email callbacks as config.yaml names them. The admin Worker (key and invitation emails, admin-worker/email/)
 * and the gateway (budget alert emails, worker/telemetry/email/) send their emails over HTTPS; `smtp_email` loads with a warning: Workers open no SMTP connection (outbound port 25 is
 * blocked, and SMTP over cloudflare:sockets would need its own STARTTLS and AUTH client).
 */
export const EMAIL_CALLBACKS = ['resend_email', 'sendgrid_email'] as const;

/** Why a callback Tollgate does not serve is not served, where a plain "not supported yet" would mislead. */
export const UNSERVED_CALLBACK_NOTES: Partial<Record<string, string>> = {
  smtp_email: 'is not supported by Tollgate: Workers cannot send SMTP (ignored); use resend_email or sendgrid_email, which send the same emails over HTTPS',
};

/** The litellm_settings lists a callback may be named in, in the order the admin Worker reads them (worker/telemetry/email/settings.ts). */
const CALLBACK_FIELDS = ['callbacks', 'success_callback', 'failure_callback'] as const;

/**
 * Both email callbacks named: LiteLLM sends each email through both, Tollgate once, through the first whose API key
 * the admin Worker has (worker/telemetry/email/settings.ts). The warning names them in that order, each with the field
 * it is in. The keys themselves are the admin Worker's secrets, which the gateway's config load does not see: a
 * missing one is warned about when an email would go.
 */
export function emailCallbackWarnings(settings: Partial<Record<(typeof CALLBACK_FIELDS)[number], readonly string[]>>): string[] {
  const [first, second] = CALLBACK_FIELDS.flatMap((field) => (settings[field] ?? []).map((name) => ({ field, name })))
    .filter(({ name }, i, all) => (EMAIL_CALLBACKS as readonly string[]).includes(name) && all.findIndex((o) => o.name === name) === i);
  if (!first || !second) return [];
  const where = first.field === second.field
    ? `litellm_settings.${first.field}: both ${first.name} and ${second.name} are named`
    : `litellm_settings.${first.field} names ${first.name} and litellm_settings.${second.field} names ${second.name}`;
  return [`${where}: each email is sent once, through the first whose API key is set (LiteLLM sends it through each)`];
}
