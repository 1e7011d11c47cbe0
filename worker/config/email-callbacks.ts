/**
 * LiteLLM's email callbacks as config.yaml names them. The admin Worker sends their emails over HTTPS
 * (admin-worker/email/); `smtp_email` loads with a warning: Workers open no SMTP connection (outbound port 25 is
 * blocked, and SMTP over cloudflare:sockets would need its own STARTTLS and AUTH client).
 */
export const EMAIL_CALLBACKS = ['resend_email', 'sendgrid_email'] as const;

/** Why a callback Tollgate does not serve is not served, where a plain "not supported yet" would mislead. */
export const UNSERVED_CALLBACK_NOTES: Partial<Record<string, string>> = {
  smtp_email: 'is not supported by Tollgate: Workers cannot send SMTP (ignored); use resend_email or sendgrid_email, which send the same emails over HTTPS',
};

/**
 * Both email callbacks named: LiteLLM sends each email through both, Tollgate once, through the first whose API key
 * the admin Worker has (admin-worker/email/settings.ts). The keys themselves are the admin Worker's secrets, which
 * the gateway's config load does not see: a missing one is warned about when an email would go.
 */
export function emailCallbackWarnings(callbackLists: readonly (readonly string[] | undefined)[]): string[] {
  const named = EMAIL_CALLBACKS.filter((name) => callbackLists.some((list) => list?.includes(name)));
  if (named.length < 2) return [];
  return [`litellm_settings.callbacks: both ${named.join(' and ')} are named: each email is sent once, through the first whose API key is set (LiteLLM sends it through each)`];
}
