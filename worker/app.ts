import { type Context, Hono } from 'hono';
import type { GatewayEnv } from './env.ts';
import { errorResponse, GatewayError } from './errors.ts';
import { liveliness, readiness } from './routes/health.ts';
import { modelHealth } from './routes/model-health.ts';
import { countTokens, messages } from './routes/messages.ts';
import { chatCompletions, queuedChatCompletions, completions, embeddings, imageGenerations, imageEdits, moderations, ocr, rerank, responses, speech, transcriptions } from './routes/model-calls.ts';
import { getModel, listModels } from './routes/models.ts';
import { runTestSchedule, setTestClock } from './routes/test-clock.ts';
import { storedResponse } from './routes/stored-responses.ts';
import { createFile, fileById, listFiles } from './routes/files.ts';
import { batchById, createBatch, listBatches } from './routes/batches.ts';
import { createFineTuningJob, fineTuningJobById, listFineTuningJobs } from './routes/fine-tuning.ts';
import { vectorStoreRoutes } from './routes/vector-store-routes.ts';
import { videoRoutes } from './routes/video-routes.ts';
import { containerRoutes } from './routes/container-routes.ts';
import { skillRoutes } from './routes/skill-routes.ts';
import { isAdminPath } from './routes/admin-prefixes.ts';
import { ADMIN_ONLY_CONFIGURED, adminOnlyRoutes } from './auth/admin-only-routes.ts';
import { JWT_ROUTE_PERMITS_CONFIGURED, jwtRoutePermits } from './auth/jwt-permission-routes.ts';
import { metricsRoute } from './telemetry/metrics/route.ts';
import { tokenCounter } from './routes/token-counter.ts';
import { publicModelHub, publicModelHubInfo } from './routes/model-hub.ts';
import { supportedParams } from './routes/supported-params.ts';
import { transformRequest } from './routes/transform-request.ts';
import { estimateCost } from './routes/cost-estimate.ts';
import { providerPassThrough } from './routes/pass-through.ts';
import { configPassThrough } from './routes/config-pass-through.ts';
import { realtime } from './routes/realtime.ts';
import { mcpEndpoint, mcpMethodNotAllowed, mcpServerPath } from './routes/mcp.ts';
import { mcpRestCallTool, mcpRestListTools, mcpServerList } from './routes/mcp-rest.ts';
import { googleModelCall } from './routes/google-models.ts';
import { interactionRoutes } from './interactions/routes.ts';
import { applyGuardrail, guardrailsList } from './routes/guardrails.ts';
import { testPrompt } from './routes/prompt-test.ts';
import { listSearchTools, search } from './search/route.ts';
import { ragRoutes } from './rag/routes.ts';
import { PASS_THROUGH_PREFIXES } from './passthrough/providers.ts';
import { home, routeList, testRoute } from './routes/route-list.ts';
import { a2aCard, a2aInvoke, listAgents } from './a2a/route.ts';
import { WEBSEARCH_CONFIGURED } from './websearch/configured.ts';
import { interceptWebSearch } from './websearch/intercept.ts';

export const app = new Hono<{ Bindings: GatewayEnv }>();
// litellm_settings.callbacks: ["websearch_interception"] (websearch/): chat, Messages and Responses calls offering the web search tool run
// its tool loop; registered only when config.yaml turns it on, so no other call pays for it.
const throughApp = async (request: Request, c: Context<{ Bindings: GatewayEnv }>) => app.fetch(request, c.env, c.executionCtx);
const chatRoute = WEBSEARCH_CONFIGURED ? interceptWebSearch('chat', chatCompletions, throughApp) : chatCompletions;
const messagesRoute = WEBSEARCH_CONFIGURED ? interceptWebSearch('messages', messages, throughApp) : messages;
const queuedChatRoute = WEBSEARCH_CONFIGURED ? interceptWebSearch('chat', queuedChatCompletions, throughApp) : queuedChatCompletions;
const responsesRoute = WEBSEARCH_CONFIGURED ? interceptWebSearch('responses', responses, throughApp) : responses;

// general_settings.admin_only_routes: before every route (the health checks and /metrics too); unlisted paths go straight on (none listed: not registered).
if (ADMIN_ONLY_CONFIGURED) app.use('*', adminOnlyRoutes);
// A JWT's role_permissions / scope_mappings routes (auth/jwt-permission-routes.ts): registered only when config.yaml enforces listed routes.
if (JWT_ROUTE_PERMITS_CONFIGURED) app.use('*', jwtRoutePermits);
app.get('/health/liveliness', liveliness);
app.get('/health/liveness', liveliness);
app.get('/health/readiness', readiness);
// LiteLLM's model health check: a tiny real call to every deployment the key may call.
app.get('/health', modelHealth);
// Prometheus metrics, public as LiteLLM serves them (telemetry/metrics/).
app.get('/metrics', metricsRoute);
// LiteLLM's public model hub: the published model groups and the hub's links, without a key (routes/model-hub.ts).
app.get('/public/model_hub', publicModelHub);
app.get('/public/model_hub/info', publicModelHubInfo);
// LiteLLM's other public routes: the route list, its deprecated ping, and the root (its API docs; routes/route-list.ts).
app.get('/routes', routeList(() => app.routes));
app.get('/test', testRoute);
app.get('/', home);

// Each OpenAI route with and without /v1, plus the Azure-style deployment paths, as LiteLLM serves them.
for (const prefix of ['', '/v1', '/openai/deployments/:model', '/engines/:model']) {
  app.post(`${prefix}/chat/completions`, chatRoute);
  app.post(`${prefix}/completions`, completions);
  app.post(`${prefix}/embeddings`, embeddings);
  app.post(`${prefix}/images/generations`, imageGenerations);
  app.post(`${prefix}/images/edits`, imageEdits);
  app.post(`${prefix}/audio/speech`, speech);
  app.post(`${prefix}/audio/transcriptions`, transcriptions);
}
// LiteLLM's priority-queue route: a chat call like any other here (`priority` is taken, not forwarded; calls are not queued).
app.post('/queue/chat/completions', queuedChatRoute);
for (const path of ['/rerank', '/v1/rerank', '/v2/rerank']) app.post(path, rerank);
for (const path of ['/ocr', '/v1/ocr']) app.post(path, ocr);
app.post('/v1/moderations', moderations);
app.post('/moderations', moderations);
// OpenAI's Responses API, passed through to providers that speak it (LiteLLM's `/openai/v1` form too).
for (const prefix of ['/v1', '', '/openai/v1']) app.post(`${prefix}/responses`, responsesRoute);
// A stored response, by the id the gateway gave it: sent to the deployment that stored it.
for (const prefix of ['/v1', '', '/openai/v1']) {
  app.get(`${prefix}/responses/:id`, storedResponse('GET', ''));
  app.delete(`${prefix}/responses/:id`, storedResponse('DELETE', ''));
  app.get(`${prefix}/responses/:id/input_items`, storedResponse('GET', '/input_items'));
  app.post(`${prefix}/responses/:id/cancel`, storedResponse('POST', '/cancel'));
}
// Anthropic's Messages API, for any model (translated to and from a chat call).
for (const prefix of ['/v1', '', '/openai/v1']) {
  app.post(`${prefix}/files`, createFile);
  app.get(`${prefix}/files`, listFiles);
  app.get(`${prefix}/files/:id`, fileById('GET', ''));
  app.delete(`${prefix}/files/:id`, fileById('DELETE', ''));
  app.get(`${prefix}/files/:id/content`, fileById('GET', '/content'));
  app.post(`${prefix}/batches`, createBatch);
  app.get(`${prefix}/batches`, listBatches);
  app.get(`${prefix}/batches/:id`, batchById('GET', ''));
  app.post(`${prefix}/batches/:id/cancel`, batchById('POST', '/cancel'));
  app.post(`${prefix}/fine_tuning/jobs`, createFineTuningJob);
  app.get(`${prefix}/fine_tuning/jobs`, listFineTuningJobs);
  app.get(`${prefix}/fine_tuning/jobs/:id`, fineTuningJobById('GET', ''));
  app.post(`${prefix}/fine_tuning/jobs/:id/cancel`, fineTuningJobById('POST', '/cancel'));
  app.get(`${prefix}/fine_tuning/jobs/:id/events`, fineTuningJobById('GET', '/events'));
  app.get(`${prefix}/fine_tuning/jobs/:id/checkpoints`, fineTuningJobById('GET', '/checkpoints'));
  vectorStoreRoutes(app, prefix);
  videoRoutes(app, prefix);
  containerRoutes(app, prefix);
}
// OpenAI's Realtime API: a WebSocket session per connection.
for (const path of ['/v1/realtime', '/realtime', '/openai/v1/realtime']) app.get(path, realtime);
app.post('/v1/messages', messagesRoute);
app.post('/v1/messages/count_tokens', countTokens);
skillRoutes(app);
app.post('/utils/token_counter', tokenCounter);
app.get('/utils/supported_openai_params', supportedParams);
app.post('/utils/transform_request', transformRequest);
app.post('/cost/estimate', estimateCost);
app.get('/guardrails/list', guardrailsList);
app.post('/guardrails/apply_guardrail', applyGuardrail);
// LiteLLM's prompt playground: a chat run here; the rest of /prompts/ is the admin Worker's (routes/admin-prefixes.ts).
app.post('/prompts/test', testPrompt);
for (const prefix of ['/v1', '']) {
  app.get(`${prefix}/search/tools`, listSearchTools);
  app.post(`${prefix}/search`, search);
  app.post(`${prefix}/search/:search_tool_name`, search);
}
// LiteLLM's RAG API: ingest into, and answer from, the caller's own vector stores.
ragRoutes(app);
// Google's own format for Gemini model groups (the Gemini CLI, Google's SDKs): `/v1beta/models/{group}:generateContent`.
app.post('/v1beta/models/*', googleModelCall);
app.post('/v1/models/*', googleModelCall);
// Google's Interactions API for Gemini model groups (interactions/): create, read, delete, cancel.
interactionRoutes(app);
app.get('/v1/models', listModels);
app.get('/models', listModels);
app.get('/v1/models/*', getModel);
app.get('/models/*', getModel);

// Providers' own APIs passed through (LiteLLM's `/anthropic/...`, `/gemini/...`): after every route above, so `/openai/v1/responses` stays the gateway's.
for (const prefix of Object.keys(PASS_THROUGH_PREFIXES)) app.all(`${prefix}/*`, providerPassThrough(prefix));

// LiteLLM's MCP gateway (config.yaml's mcp_servers).
app.get('/mcp-rest/tools/list', mcpRestListTools);
app.post('/mcp-rest/tools/call', mcpRestCallTool);
for (const path of ['/mcp', '/mcp/', '/mcp/:servers']) {
  app.post(path, mcpEndpoint);
  app.on(['GET', 'DELETE'], path, mcpMethodNotAllowed);
}
// LiteLLM's other per-server form, `/{server}/mcp`, for configured server names only (any other path goes on).
app.on(['POST', 'GET', 'DELETE'], '/:servers/mcp', mcpServerPath);
app.get('/v1/mcp/server', mcpServerList);
app.get('/v1/mcp/server/:server', mcpServerList);
// LiteLLM's A2A agent gateway (a2a/): agents stored through /v1/agents, whose writes go on to the admin Worker.
app.post('/a2a/:agent_id', a2aInvoke);
app.post('/a2a/:agent_id/message/send', a2aInvoke);
app.post('/v1/a2a/:agent_id/message/send', a2aInvoke);
app.get('/a2a/:agent_id/.well-known/agent-card.json', a2aCard);
app.get('/a2a/:agent_id/.well-known/agent.json', a2aCard);
app.get('/v1/agents', listAgents);
app.get('/v1/agents/:agent_id', listAgents);
app.post('/__tollgate/test/clock', setTestClock);
app.post('/__tollgate/test/scheduled', runTestSchedule);

app.all('*', async (c) => {
  if (isAdminPath(c.req.path) && c.env.ADMIN) return c.env.ADMIN.fetch(c.req.raw);
  // config.yaml's general_settings.pass_through_endpoints.
  const configured = await configPassThrough(c);
  if (configured) return configured;
  throw new GatewayError(`Route not found: ${c.req.method} ${c.req.path.slice(0, 200)}`, { status: 404, type: 'not_found_error' });
});

app.onError((err) => errorResponse(err));
