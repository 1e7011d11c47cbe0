/**
 * `litellm_settings.default_team_settings`: LiteLLM's config-defined team-based logging. Each entry gives one
 * team its own Langfuse project; the team's calls are routed by worker/telemetry/langfuse/logging-settings.ts
 * exactly as a team's stored `metadata.callback_settings` would route them, and the admin Worker's consumer
 * reads the credentials from this config when it delivers (admin-worker/queues/callbacks/credentials.ts).
 */
import { z } from 'zod';
import { str, strList } from './fields.ts';
import { plainSecretWarnings } from './plain-secrets.ts';

export const teamSettingsEntrySchema = z.object({
  team_id: str.min(1, 'must not be empty'),
  success_callback: strList.optional(),
  failure_callback: strList.optional(),
  /** Values as written: an `os.environ/NAME` stays a name here and is read by the admin Worker when it sends. */
  langfuse_public_key: str.optional(),
  langfuse_secret: str.optional(),
  langfuse_secret_key: str.optional(),
  langfuse_host: str.optional(),
});

export const defaultTeamSettingsSchema = z.array(teamSettingsEntrySchema, { error: 'expected a list of {team_id, success_callback, langfuse_public_key, ...}' });

export type TeamSettingsEntry = z.output<typeof teamSettingsEntrySchema>;

/**
 * Paths whose `os.environ/` values validation leaves unresolved (validate.ts): the credentials are read where
 * they are used, so the gateway never holds a team's Langfuse secret.
 */
export const TEAM_SETTINGS_VARS = /^litellm_settings\.default_team_settings\[\d+\]\.langfuse_/;

/** The entry of this team (the first, as LiteLLM's `_get_team_config` takes it). */
export function configTeamEntry(entries: readonly TeamSettingsEntry[] | undefined, teamId: string): TeamSettingsEntry | undefined {
  return entries?.find((e) => e.team_id === teamId);
}

/**
 * What a valid `default_team_settings` means: callbacks a team's settings cannot send to, entries that send
 * nothing or lack credentials, duplicates, and secrets written into config.yaml. Never quotes a value but a
 * team id or a callback name.
 */
export function teamSettingsWarnings(entries: readonly TeamSettingsEntry[] | undefined): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  entries?.forEach((e, i) => {
    const at = `litellm_settings.default_team_settings[${i}]`;
    if (seen.has(e.team_id)) out.push(`${at}: team "${e.team_id}" is listed before; only its first entry applies`);
    seen.add(e.team_id);
    for (const field of ['success_callback', 'failure_callback'] as const) {
      for (const name of e[field] ?? []) {
        if (name !== 'langfuse') out.push(`${at}.${field}: callback "${name}" is not sent per team by Tollgate (ignored; supported: langfuse)`);
      }
    }
    const lists = e.success_callback !== undefined || e.failure_callback !== undefined;
    if (lists && ![...(e.success_callback ?? []), ...(e.failure_callback ?? [])].includes('langfuse')) {
      out.push(`${at}: lists no "langfuse" callback, so it sends the team's calls nowhere of its own (ignored)`);
    } else if (!lists) {
      out.push(`${at}: no success_callback or failure_callback: its credentials apply only where the config's own callbacks send to Langfuse`);
    }
    if (!e.langfuse_public_key || !(e.langfuse_secret ?? e.langfuse_secret_key)) {
      out.push(`${at}: no langfuse_public_key and langfuse_secret of its own: the team's events take LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY, ` +
        'which are sent only to LANGFUSE_HOST (with another langfuse_host they cannot be delivered)');
    }
    out.push(...plainSecretWarnings(at, e, ['langfuse_secret', 'langfuse_secret_key'], 'the Workers'));
  });
  return out;
}
