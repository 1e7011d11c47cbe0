import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { run } from '../guardrails/run.ts';
import { modesOf } from '../guardrails/schema.ts';
import { isObject } from '../json.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { readJsonObject } from '../openai/read-body.ts';
import { gatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * `GET /guardrails/list` (LiteLLM's, for any key): the configured guardrails a call may name, with their
 * service, modes, `default_on` and `guardrail_info`; never their credentials or endpoints.
 */
export async function guardrailsList(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  await authenticateRoute(c, state);
  const guardrails = (state.config.guardrails ?? []).map((g) => ({
    guardrail_name: g.guardrail_name,
    litellm_params: { guardrail: g.litellm_params.guardrail, mode: modesOf(g).length === 1 ? modesOf(g)[0] : modesOf(g), default_on: g.litellm_params.default_on === true },
    guardrail_info: g.guardrail_info ?? null,
  }));
  return Response.json({ guardrails });
}

/**
 * `POST /guardrails/apply_guardrail` (LiteLLM's, for any key): `{guardrail_name, text}` through one configured
 * guardrail, as a call's input: `{response_text}` (masked where it masks), or the 400 its refusal is.
 * LiteLLM's `language` and `entities` are taken and not used (the guardrail's own settings apply).
 */
export async function applyGuardrail(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  await authenticateRoute(c, state);
  const read = await readJsonObject(c.req.raw, state.config);
  if (!read) throw new GatewayError('Invalid JSON in request body', { status: 400, type: 'bad_request_error' });
  const body = read.json;
  if (!isObject(body) || typeof body.guardrail_name !== 'string' || typeof body.text !== 'string') {
    throw new GatewayError('Expected {"guardrail_name": "<name>", "text": "<text>"}', { status: 400, type: 'bad_request_error', param: isObject(body) && typeof body.guardrail_name === 'string' ? 'text' : 'guardrail_name' });
  }
  const name = body.guardrail_name;
  const guardrail = state.config.guardrails?.find((g) => g.guardrail_name === name);
  if (!guardrail) throw new GatewayError(`Guardrail ${name} not found`, { status: 404, type: 'not_found_error', param: 'guardrail_name' });
  let text = body.text;
  await run([guardrail], [{ role: 'user', text, set: (masked) => (text = masked) }], 'INPUT', c.env, crypto.randomUUID());
  return Response.json({ response_text: text });
}
