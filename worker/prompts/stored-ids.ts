/**
 * How prompts stored through `/prompts` (LiteLLM_PromptTable, a row per version) are named and picked: LiteLLM
 * shows version n of `my_prompt` as `my_prompt.v<n>`, and a chat call names the latest version by the bare id,
 * or one version by `my_prompt.v2` or, for a dotprompt, by `prompt_version: 2` (a Langfuse or generic prompt's
 * `prompt_version` is its own store's version, passed on as it is for config.yaml's).
 */
import { GatewayError } from '../errors.ts';
import type { PromptSpec } from './schema.ts';

/**
 * A stored version that cannot apply on this gateway, and why (stored-params.ts `needsEnv`: a variable it refers
 * to is not set here, or is one of the gateway's own secrets): calls naming it are a 400 saying so, rather than
 * told no such prompt exists.
 */
export interface UnusableHere {
  integration: string;
  needsEnv: string;
}

/** Stored prompts as the gateway keeps them: each bare id's versions, each spec's `prompt_id` the bare id. */
export type StoredPrompts = ReadonlyMap<string, ReadonlyMap<number, PromptSpec | UnusableHere>>;

const integrationOf = (v: PromptSpec | UnusableHere): string => ('needsEnv' in v ? v.integration : v.litellm_params.prompt_integration);

/** What a call's prompt_id (and prompt_version) picked of the stored prompts. */
export interface StoredPick {
  spec: PromptSpec;
  version: number;
  /** Whether the call's prompt_version chose the row, so it is not the integration's to read as well. */
  versionTaken: boolean;
}

const VERSIONED = /^(.+)\.v([1-9]\d{0,8})$/;

/** `my_prompt.v2` as its bare id and version; undefined for an id naming no version. */
export function versionedId(id: string): { base: string; version: number } | undefined {
  const m = VERSIONED.exec(id);
  return m ? { base: m[1]!, version: Number(m[2]) } : undefined;
}

/** How LiteLLM shows version `version` of a stored prompt. */
export const shownPromptId = (base: string, version: number): string => `${base}.v${version}`;

/** The highest version of a prompt's versions. */
function latestVersion(versions: ReadonlyMap<number, unknown>): number {
  let latest = 0;
  for (const v of versions.keys()) if (v > latest) latest = v;
  return latest;
}

/** A prompt_version as a stored version's number, undefined for any other text. */
const versionNumber = (v: string | undefined): number | undefined => (v !== undefined && /^[1-9]\d{0,8}$/.test(v) ? Number(v) : undefined);

/**
 * Whether `prompts` can answer a call naming `promptId` (and `promptVersion`) without a fresh read: it has the
 * prompt, and the call names no version above its latest (one a write may just have stored). A version it
 * cannot have (not a number, or a lower one since deleted) needs no read: pickStoredPrompt refuses it.
 */
export function knowsStoredPrompt(prompts: StoredPrompts, promptId: string, promptVersion: string | undefined): boolean {
  const versioned = versionedId(promptId);
  const versions = prompts.get(versioned?.base ?? promptId);
  if (!versions) return false;
  const latest = latestVersion(versions);
  const asked = versioned ? versioned.version : integrationOf(versions.get(latest)!) === 'dotprompt' ? versionNumber(promptVersion) : undefined;
  return asked === undefined || asked <= latest;
}

/**
 * The stored prompt a call names: `<id>.v<n>` that version (when `<id>` is stored), a bare id its latest
 * version, or, when that is a dotprompt and the call gives `prompt_version` n, version n. Undefined when no
 * prompt is stored under the id; a version the stored prompt does not have is a 400 naming its versions.
 */
export function pickStoredPrompt(prompts: StoredPrompts, promptId: string, promptVersion: string | undefined): StoredPick | undefined {
  const versioned = versionedId(promptId);
  const named = versioned && prompts.get(versioned.base);
  if (versioned && named) {
    const spec = named.get(versioned.version);
    if (!spec) throw noSuchVersion(versioned.base, named, `prompt_id "${promptId}"`, 'prompt_id');
    return { spec: usable(versioned.base, versioned.version, spec), version: versioned.version, versionTaken: integrationOf(spec) === 'dotprompt' };
  }
  const versions = prompts.get(promptId);
  if (!versions) return undefined;
  const latest = latestVersion(versions);
  const spec = versions.get(latest)!;
  if (integrationOf(spec) !== 'dotprompt' || promptVersion === undefined) return { spec: usable(promptId, latest, spec), version: latest, versionTaken: false };
  const asked = versionNumber(promptVersion);
  const picked = asked === undefined ? undefined : versions.get(asked);
  if (!picked) throw noSuchVersion(promptId, versions, `prompt_version "${promptVersion}"`, 'prompt_version');
  return { spec: usable(promptId, asked!, picked), version: asked!, versionTaken: true };
}

/** The version's spec, or a 400 saying what the gateway lacks to apply it. */
function usable(base: string, version: number, v: PromptSpec | UnusableHere): PromptSpec {
  if (!('needsEnv' in v)) return v;
  throw new GatewayError(`stored prompt "${shownPromptId(base, version)}" cannot be used: ${v.needsEnv}`, { status: 400, type: 'bad_request_error', param: 'prompt_id' });
}

const noSuchVersion = (base: string, versions: ReadonlyMap<number, unknown>, what: string, param: string) => new GatewayError(
  `${what} is not a version of stored prompt "${base}" (its versions: ${[...versions.keys()].sort((a, b) => a - b).join(', ')})`,
  { status: 400, type: 'bad_request_error', param },
);
