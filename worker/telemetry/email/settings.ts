/**
 * LiteLLM's email callbacks (`litellm_settings.callbacks: ["resend_email"]` or `["sendgrid_email"]`): which one
 * config.yaml turns on, and what it reads from the Worker's env. Pure: the config's callback lists and the env in.
 */
import { EMAIL_CALLBACKS } from '../../config/email-callbacks.ts';
import { emailSubject } from './templates.ts';

type EmailCallback = (typeof EMAIL_CALLBACKS)[number];
/** A callback's provider: its name without `_email` (`resend_email` is Resend). */
type ProviderOf<Name> = Name extends `${infer Provider}_email` ? Provider : never;
type EmailProvider = ProviderOf<EmailCallback>;

const isEmailCallback = (name: string): name is EmailCallback => (EMAIL_CALLBACKS as readonly string[]).includes(name);
const providerOf = (name: EmailCallback) => name.slice(0, -'_email'.length) as EmailProvider;

/** LiteLLM's sender when none is set: its own domain, which only its cloud can send from (set a verified one). */
export const DEFAULT_SENDER = 'notifications@alerts.litellm.ai';
/** LiteLLM's default PROXY_BASE_URL. */
const DEFAULT_BASE_URL = 'http://0.0.0.0:4000';
const API_KEY_VARS: Record<EmailProvider, string> = { resend: 'RESEND_API_KEY', sendgrid: 'SENDGRID_API_KEY' };
/** The providers' APIs; RESEND_API_BASE / SENDGRID_API_BASE (Tollgate's names) point elsewhere (an EU region, a test). */
const DEFAULT_API_BASES: Record<EmailProvider, string> = { resend: 'https://api.resend.com', sendgrid: 'https://api.sendgrid.com' };

export interface EmailSettings {
  provider: EmailProvider;
  /** RESEND_API_KEY or SENDGRID_API_KEY: sent to its provider only, never logged. */
  apiKey: string;
  apiBase: string;
  sender: string;
  /** PROXY_BASE_URL: the base URL the key email's OpenAI SDK quick start uses. */
  baseUrl: string;
  /**
   * The page an invitation links to, `?invitation_id=<id>` appended: EMAIL_INVITATION_BASE_URL (Tollgate's name),
   * else LiteLLM's `{PROXY_BASE_URL}/ui`. Tollgate serves no UI: the page is one that accepts LiteLLM's invitations.
   */
  invitationUrl: string;
  /** EMAIL_LOGO_URL; no logo without it (LiteLLM's default is its own). */
  logoUrl?: string;
  /** EMAIL_SUPPORT_CONTACT; no support line without it (LiteLLM's default is its own support address). */
  supportContact?: string;
  /** EMAIL_SIGNATURE: the operator's footer, HTML as given. */
  signature?: string;
  /** EMAIL_INCLUDE_API_KEY (on unless "false"): whether a new key's value is in its email. */
  includeKey: boolean;
  /** EMAIL_SUBJECT_INVITATION / _KEY_CREATED / _KEY_ROTATED: subject templates, `{event_message}` filled in. */
  subjects: Partial<Record<EmailEventKind, string>>;
}

export type EmailEventKind = 'new_user_invitation' | 'virtual_key_created' | 'virtual_key_rotated';

const SUBJECT_VARS: Record<EmailEventKind, string> = {
  new_user_invitation: 'EMAIL_SUBJECT_INVITATION',
  virtual_key_created: 'EMAIL_SUBJECT_KEY_CREATED',
  virtual_key_rotated: 'EMAIL_SUBJECT_KEY_ROTATED',
};

const str = (env: Record<string, unknown>, name: string): string | undefined => {
  const value = env[name];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
};

type CallbackLists = readonly (readonly string[] | undefined)[];

/** The email providers config.yaml's callback lists name, in order, each once. */
function namedProviders(callbackLists: CallbackLists): EmailProvider[] {
  return [...new Set(callbackLists.flatMap((list) => list ?? []).filter(isEmailCallback).map(providerOf))];
}

/** EMAIL_SUBJECT_*: the subject templates the env sets. */
function emailSubjects(env: Record<string, unknown>): EmailSettings['subjects'] {
  const subjects: EmailSettings['subjects'] = {};
  for (const [kind, variable] of Object.entries(SUBJECT_VARS) as [EmailEventKind, string][]) {
    const subject = str(env, variable);
    if (subject) subjects[kind] = subject;
  }
  return subjects;
}

/**
 * Why config.yaml's email callbacks send nothing, for a warning: each named one lacks its API key. Undefined when
 * one can send, or when none is named.
 */
function missingApiKeys(callbackLists: CallbackLists, env: Record<string, unknown>): string | undefined {
  const providers = namedProviders(callbackLists);
  if (!providers.length || providers.some((p) => str(env, API_KEY_VARS[p]))) return undefined;
  return providers.map((p) => `${p}_email needs ${API_KEY_VARS[p]}`).join(', ') + ' (a secret of the gateway and admin Workers), which is not set';
}

/**
 * The email callback that sends: the first config.yaml names whose API key is set (with both named, each email goes
 * once, where LiteLLM sends it through each). Undefined when none is named or none has its key.
 */
export function emailSettings(callbackLists: CallbackLists, env: Record<string, unknown>): EmailSettings | undefined {
  const provider = namedProviders(callbackLists).find((p) => str(env, API_KEY_VARS[p]));
  if (!provider) return undefined;
  const apiKey = str(env, API_KEY_VARS[provider]) as string;
  const sender = (provider === 'resend' ? str(env, 'RESEND_FROM_EMAIL') : str(env, 'SENDGRID_SENDER_EMAIL')) ?? str(env, 'EMAIL_SENDER') ?? DEFAULT_SENDER;
  const baseUrl = (str(env, 'PROXY_BASE_URL') ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  return {
    provider,
    apiKey,
    apiBase: (str(env, provider === 'resend' ? 'RESEND_API_BASE' : 'SENDGRID_API_BASE') ?? DEFAULT_API_BASES[provider]).replace(/\/+$/, ''),
    sender,
    baseUrl,
    invitationUrl: str(env, 'EMAIL_INVITATION_BASE_URL') ?? `${baseUrl}/ui`,
    logoUrl: str(env, 'EMAIL_LOGO_URL'),
    supportContact: str(env, 'EMAIL_SUPPORT_CONTACT'),
    signature: str(env, 'EMAIL_SIGNATURE'),
    includeKey: str(env, 'EMAIL_INCLUDE_API_KEY')?.toLowerCase() !== 'false',
    subjects: emailSubjects(env),
  };
}

const NO_EMAIL_CALLBACK = 'send_invite_email is true but litellm_settings.callbacks names no email callback (resend_email or sendgrid_email)';

/**
 * The settings to send `kind`'s email with, or the warning why none goes (naming the email by its subject, as
 * EMAIL_SUBJECT_* sets it): the email callbacks named lack their API keys, or the request asked
 * (`send_invite_email`) and none is named. The write is answered either way, as LiteLLM's is (its after-write
 * hook logs "Email alerting not setup on config.yaml").
 */
export function emailSetup(callbackLists: CallbackLists, env: Record<string, unknown>, kind: EmailEventKind, requested: boolean): { settings?: EmailSettings; warning?: string } {
  const settings = emailSettings(callbackLists, env);
  if (settings) return { settings };
  const reason = missingApiKeys(callbackLists, env) ?? (requested ? NO_EMAIL_CALLBACK : undefined);
  return reason ? { warning: notSent(kind, { subjects: emailSubjects(env) }, reason) } : {};
}

/** The warning that `kind`'s email was not sent, and why. */
export const notSent = (kind: EmailEventKind, settings: Pick<EmailSettings, 'subjects'>, reason: string): string =>
  `email "${emailSubject(kind, settings)}" not sent: ${reason}`;
