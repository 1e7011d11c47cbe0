import type { Context } from 'hono';
import pkg from '../../package.json';
import type { GatewayEnv } from '../env.ts';
import { errorResponse } from '../errors.ts';
import { currentCatalog } from '../models/catalog.ts';
import { hubEntries } from '../models/hub-entries.ts';
import { hubSettings } from '../models/hub-settings.ts';
import { gatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * LiteLLM's `GET /public/model_hub`: the published model groups (`litellm_settings.public_model_groups`, or the list
 * `/model_group/make_public` stored) as ModelGroupInfo entries (models/hub-entries.ts), `[]` when none are. No key is
 * asked for or looked at: the answer is the same for everyone, and it is built from memory (the config, the
 * isolate's model catalog and its copy of the stored list), so no request opens a Postgres connection of its own.
 *
 * @example GET /public/model_hub → [{"model_group": "gpt-4o", "providers": ["openai"], "mode": "chat", ...}]
 */
export async function publicModelHub(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const [settings, catalog] = await Promise.all([hubSettings(state, c.env, c.executionCtx), currentCatalog(state, c.env, c.executionCtx)]);
    return Response.json(hubEntries(catalog, settings.groups));
  } catch (err) {
    return errorResponse(err);
  }
}

/**
 * LiteLLM's `GET /public/model_hub/info`: the hub page's title, description, version and useful links
 * (`litellm_settings.public_model_groups_links`, or those `/model_hub/update_useful_links` stored). No key.
 * The title and description come from `DOCS_TITLE` and `DOCS_DESCRIPTION`, as LiteLLM's do.
 */
export async function publicModelHubInfo(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const settings = await hubSettings(state, c.env, c.executionCtx);
    const env = c.env as unknown as Record<string, unknown>;
    const text = (name: string) => (typeof env[name] === 'string' && env[name] ? (env[name] as string) : null);
    return Response.json({
      docs_title: text('DOCS_TITLE') ?? 'LiteLLM API',
      custom_docs_description: text('DOCS_DESCRIPTION'),
      litellm_version: pkg.version,
      useful_links: settings.links,
    });
  } catch (err) {
    return errorResponse(err);
  }
}
