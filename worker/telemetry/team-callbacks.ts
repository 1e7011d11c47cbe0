import type { Caller } from '../auth/authenticate.ts';
import { isObject } from '../json.ts';

/**
 * Whether the caller's team decides if callback `name` runs for this call, and how: a team's
 * `metadata.callback_settings` listing the callbacks for an event (`success_callback` /
 * `failure_callback`, or `callbacks` for both, as LiteLLM's `TeamCallbackMetadata` has them) replaces
 * the config's callbacks for its keys' calls, so an empty list (what `/team/{id}/disable_logging`
 * writes) logs them nowhere. Undefined when the team does not decide: no list for the event, a team
 * whose `metadata.logging` list shadows its `callback_settings`, or a key with `metadata.logging` of its
 * own, which shadows its team's settings.
 *
 * Runs for every call: property reads only.
 *
 * @example teamListsCallback(caller, false, 'langfuse') // false after disable_logging
 */
export function teamListsCallback(caller: Caller, failed: boolean, name: string): boolean | undefined {
  if (caller.kind !== 'key') return undefined;
  const { metadata, team } = caller.policy;
  if (!team || Array.isArray(metadata.logging)) return undefined;
  const teamMetadata = team.metadata;
  if (!isObject(teamMetadata) || Array.isArray(teamMetadata.logging)) return undefined;
  const settings = teamMetadata.callback_settings;
  if (!isObject(settings)) return undefined;
  const forEvent = failed ? settings.failure_callback : settings.success_callback;
  const both = settings.callbacks;
  if (!Array.isArray(forEvent) && !Array.isArray(both)) return undefined;
  return (Array.isArray(forEvent) && forEvent.includes(name)) || (Array.isArray(both) && both.includes(name));
}
