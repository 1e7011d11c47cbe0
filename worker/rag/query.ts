import { z } from 'zod';
import { badRequest, errorResponse } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import { aliasOf, authorizeCall } from '../proxy/call-access.ts';
import { validated } from '../proxy/call-helpers.ts';
import { callFileIds } from '../proxy/call-file-ids.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { chatRequestSchema } from '../openai/request-schemas.ts';
import { handleModelCall } from '../proxy/model-call.ts';
import { refusePromptId } from '../prompts/apply.ts';
import { gatewayState } from '../state.ts';
import { type Ctx, homeOfId } from '../routes/provider-objects.ts';
import { clientError, withBeta } from '../routes/vector-stores.ts';
import { querySearch, type QuerySearch } from './search.ts';
import { contextMessage, groundedAnswer, queryText } from './context.ts';

/**
 * LiteLLM's `POST /v1/rag/query` (and `/rag/query`): the last message searched for in one of the caller's
 * vector stores, then a chat completion with what was found placed before that message, as LiteLLM's
 * RAGQuery does. The chat is a normal model call (the key's model access, limits, budgets, cache, fallbacks
 * and spend log apply); the search (logged as `avector_store_search`) is admitted before it but counted and
 * billed (at the deployment's `input_cost_per_query`) with it, so a query is one request of the key; a chat
 * refused after the search has the search counted and billed on its own, as a standalone search. Two spend rows.
 */

/** LiteLLM's default `top_k`. */
const DEFAULT_TOP_K = 10;
/** OpenAI's bound on a search's `max_num_results`. */
const MAX_TOP_K = 50;

const querySchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.record(z.string(), z.unknown())).min(1),
  retrieval_config: z.object({
    vector_store_id: z.string().min(1),
    custom_llm_provider: z.string().optional(),
    top_k: z.number().int().min(1).max(MAX_TOP_K).optional(),
    filters: z.record(z.string(), z.unknown()).optional(),
  }),
  rerank: z.looseObject({ enabled: z.boolean().optional() }).nullable().optional(),
  stream: z.boolean().optional(),
});

/** `POST /v1/rag/query`: a chat completion (or its stream) grounded on the caller's store. */
export async function ragQuery(c: Ctx): Promise<Response> {
  const sent = new Map<string, string>();
  let chatBody: Record<string, unknown>;
  let searched: QuerySearch;
  try {
    const startedAt = Date.now();
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const { retrieval_config: retrieval, rerank, ...chat } = await readJsonBody(c.req.raw, querySchema, bodyLimit(state.config));
    // The access check and the paid search are decided on the request's model and messages, which a prompt would change.
    refusePromptId(chat, '/v1/rag/query');
    if (rerank?.enabled === true) {
      throw badRequest('rerank is not supported on /rag/query here: call /v1/rerank with the search results, or leave rerank out', 'rerank');
    }
    const query = queryText(chat.messages);
    if (!query) throw badRequest('No query found in messages for RAG query: the last message must hold text', 'messages');
    const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: chat.model });
    // The chat as the model call will see it (a context message changes neither its fields nor its rules):
    // refused here, before its search is paid for, where the call would refuse it before its admission.
    const draft = validated(chatRequestSchema, chat) as Record<string, unknown>;
    const aliased = aliasOf(caller, chat.model);
    const resolved = resolveGroup(state.config, catalog, aliased ?? chat.model);
    authorizeCall({
      caller, requested: chat.model, aliased, picked: resolved.deployments[0], catalog, path: c.req.path, body: draft,
      bodyRules: { settings: state.config.general_settings, clientBody: chat },
    });
    // The files and containers the chat names, checked as the call will check them (an unknown or another owner's
    // file is a 404, a provider's container id a 400 for a key): refused before the search, never after it.
    callFileIds(caller, 'chat', draft, catalog, state.responseIdKey);
    // The caller's own store only: anyone else's is the 404 of an unknown id, before anything is searched.
    const { home, upstreamId } = homeOfId(c, state, caller, catalog, 'vector_store', retrieval.vector_store_id);
    sent.set(upstreamId, retrieval.vector_store_id);
    if (retrieval.custom_llm_provider && retrieval.custom_llm_provider !== home.deployment.provider) {
      throw badRequest(`retrieval_config.custom_llm_provider ${retrieval.custom_llm_provider} is not the provider of the vector store's account (${home.deployment.provider})`, 'retrieval_config.custom_llm_provider');
    }
    const ids = { home: withBeta(home), upstreamId, clientId: retrieval.vector_store_id };
    const search = { query, max_num_results: retrieval.top_k ?? DEFAULT_TOP_K, ...(retrieval.filters ? { filters: retrieval.filters } : {}) };
    searched = await querySearch(c, state, caller, ids, search, sent, startedAt);
    const messages = chat.messages;
    chatBody = { ...chat, messages: [...messages.slice(0, -1), contextMessage(searched.found), messages.at(-1)!] };
  } catch (err) {
    return clientError(err, sent);
  }
  let answered: Response;
  try {
    answered = await handleModelCall(c, 'chat', chatRequestSchema, { body: chatBody, ...(searched.price ? { extraCost: searched.price } : {}) });
  } catch (err) {
    // Refused before any provider (its admission, a guardrail, an end user's budget): the search ran all the same,
    // so it is counted and billed as a standalone search.
    await searched.charge();
    throw err;
  }
  // Admitted: the chat's settlement carries the search's price, whatever the provider answered.
  searched.log();
  if (!answered.ok) return answered;
  try {
    return await groundedAnswer(answered, searched.found, searched.price, chatBody.stream === true);
  } catch (err) {
    return errorResponse(err);
  }
}
