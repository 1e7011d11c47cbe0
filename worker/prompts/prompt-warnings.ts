/**
 * What config.yaml's `prompts:` asks for that Tollgate does not do: integrations it does not run, files
 * it cannot read at the edge, templates it will not render, Langfuse prompts without keys or with a secret
 * written out in config.yaml. Each prompt still loads; calls naming one that cannot be served are refused
 * (apply.ts).
 */
import { plainSecretWarnings } from '../config/plain-secrets.ts';
import { loadDotprompts } from './dotprompt.ts';
import { BUILT_INTEGRATIONS, type PromptSpec } from './schema.ts';
import { unsupportedTag } from './template.ts';

/** `raw`: config.yaml as written (its `os.environ/` references unresolved), where a secret's spelling is seen. */
export function promptWarnings(prompts: readonly PromptSpec[] | undefined, raw?: unknown): string[] {
  const written = (raw as { prompts?: { litellm_params?: Record<string, unknown> }[] } | null | undefined)?.prompts;
  return (prompts ?? []).flatMap((spec, i) => {
    const at = `prompts[${i}].litellm_params`;
    const p = spec.litellm_params;
    const out: string[] = [];
    if (!(BUILT_INTEGRATIONS as readonly string[]).includes(p.prompt_integration)) {
      return [`${at}.prompt_integration: "${p.prompt_integration}" is not supported by Tollgate yet (only ${BUILT_INTEGRATIONS.join(', ')}): calls with prompt_id "${spec.prompt_id}" are refused`];
    }
    if (p.prompt_integration === 'langfuse') {
      return [...langfuseWarnings(spec, at), ...plainSecretWarnings(at, written?.[i]?.litellm_params, ['langfuse_secret', 'langfuse_secret_key'], 'the Worker')];
    }
    if (p.prompt_id !== undefined && p.prompt_id !== spec.prompt_id) out.push(`${at}.prompt_id: differs from prompts[${i}].prompt_id ("${spec.prompt_id}", which calls name)`);
    if (p.prompt_integration !== 'dotprompt') return out;
    for (const field of ['prompt_directory', 'prompt_file'] as const) {
      if (p[field] !== undefined) out.push(`${at}.${field}: files cannot be read by a Worker; put the prompt in dotprompt_content or prompt_data`);
    }
    try {
      const templates = loadDotprompts(spec.prompt_id, p);
      if (!templates.size && p.prompt_directory === undefined && p.prompt_file === undefined) out.push(`${at}: no dotprompt_content or prompt_data: calls with prompt_id "${spec.prompt_id}" are refused`);
      for (const [id, t] of templates) {
        const tag = unsupportedTag(t.template);
        if (tag) out.push(`${at}: prompt "${id}" uses ${tag}, which Tollgate does not render (only {{ variable }}): its calls are refused`);
      }
    } catch (err) {
      out.push(`${at}.dotprompt_content: ${(err as Error).message}: calls with prompt_id "${spec.prompt_id}" are refused`);
    }
    return out;
  });
}

/** A langfuse prompt's host and keys as settled at load (langfuse-credentials.ts); its prompt_id is Langfuse's name. */
function langfuseWarnings(spec: PromptSpec, at: string): string[] {
  const p = spec.litellm_params;
  const refused = `calls with prompt_id "${spec.prompt_id}" are refused`;
  if (!p.langfuse_host) return [`${at}: LANGFUSE_HOST is not a plain http(s) URL: ${refused}`];
  if (p.langfuse_public_key && p.langfuse_secret_key) return [];
  return [`${at}: no Langfuse public and secret key (langfuse_public_key and langfuse_secret_key, or LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY, which are sent only to LANGFUSE_HOST): ${refused}`];
}
