// LiteLLM's websearch_interception callback for a JWT whose scope routes permit /v1/chat/completions only: the
// loop's searches are held to the route the client called (as LiteLLM runs them inside the call), while the
// token's own call of /v1/search stays refused by the route permits middleware.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSearch, SEARCH_KEYS, startFakeSearch } from './fakes/search-providers.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { answerAsModel } from './fakes/websearch-model.ts';
import { jwt, JWT_AUTH_ON, stack, useJwtStack } from './support/jwt-stack.ts';
import { SEARCH_TOOL } from './support/websearch-stack.ts';

type Json = Record<string, any>;
let model: FakeUpstream;
let fake: FakeSearch;
beforeAll(async () => {
  model = await startFakeUpstream({ default: { kind: 'handler', handle: answerAsModel } });
  fake = await startFakeSearch();
});
afterAll(async () => {
  await model?.close();
  await fake?.close();
});

useJwtStack(() => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${model.url}/v1", api_key: sk-upstream-secret-0001}
search_tools:
  - search_tool_name: web
    litellm_params: {search_provider: tavily, api_key: ${SEARCH_KEYS.tavily}, api_base: "${fake.url}/tavily", input_cost_per_query: 0.002}
litellm_settings:
  callbacks: ["websearch_interception"]
  websearch_interception_params: {enabled_providers: [openai], search_tool_name: web}
${JWT_AUTH_ON}  litellm_jwtauth:
    team_id_jwt_field: client_id
    team_id_upsert: true
    enforce_scope_based_access: true
    scope_mappings:
      - {scope: chat.only, models: [gpt-4o], routes: [/v1/chat/completions]}
`);

describe('websearch_interception for a JWT whose scopes permit only /v1/chat/completions', () => {
  it('answers from the web, while the token calling /v1/search itself is refused', async () => {
    const token = jwt({ client_id: 'ws-chat-only', scope: 'chat.only' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: token, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'scoped' }], tools: [SEARCH_TOOL] });
    expect(answer.choices[0]!.message.content).toBe('From the web: Title: Tavily 1: news about scoped');
    expect(model.requests).toHaveLength(2);
    expect(fake.requests).toHaveLength(1);
    const direct = await fetch(`${stack.url}/v1/search/web`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: 'direct' }),
    });
    expect(direct.status).toBe(403);
    expect(((await direct.json()) as Json).error).toMatchObject({ code: '403' });
    expect(fake.requests).toHaveLength(1);
  });
});
