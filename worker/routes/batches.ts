import { z } from 'zod';
import { errorResponse, GatewayError } from '../errors.ts';
import { laterWorkSeen, watchLaterWork } from '../jobs/later-work-client.ts';
import { BATCH_OVER } from '../jobs/provider-work.ts';
import { LATER_WORK_BILLED_FOR_MS } from '../limits/counters.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import { checkBatchInput } from '../openai/batch-lines.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { requestTimeoutMs } from '../proxy/call-helpers.ts';
import { responseOwner } from '../providers/response-ids.ts';
import { gatewayState } from '../state.ts';
import { admitCreation, listOwned, ownedListAnswer, ownedMetadata, shownMetadata, warnIfUnowned } from './owned-objects.ts';
import { type Ctx, homeHeaders, homeOfId, homeOfRouteGroup, homeOfRouteId, type ObjectHome } from './provider-objects.ts';
import { log } from '../telemetry/log.ts';

const createBatchSchema = z.object({
  input_file_id: z.string().min(1),
  // Azure names them without /v1.
  endpoint: z.enum(['/v1/chat/completions', '/v1/embeddings', '/v1/completions', '/v1/responses', '/chat/completions', '/embeddings', '/completions', '/responses']),
  completion_window: z.string().min(1),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  output_expires_after: z.object({ anchor: z.string(), seconds: z.number() }).optional(),
  // LiteLLM's routing fields: the home comes from the file's id.
  model: z.string().optional(),
  custom_llm_provider: z.string().optional(),
});

interface BatchObject {
  id?: unknown;
  status?: unknown;
  endpoint?: unknown;
  input_file_id?: unknown;
  output_file_id?: unknown;
  error_file_id?: unknown;
  created_at?: unknown;
  completed_at?: unknown;
  metadata?: Record<string, unknown> | null;
}

/**
 * `POST /v1/batches`: a batch of the file the id names, in that file's provider account, for a key that
 * owns the file and may call its model group. The key's limits apply as to one request (a blocked key
 * or one over its budget is refused); the batch's cost is billed to it when the batch is seen done.
 */
export async function createBatch(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const body = await readJsonBody(c.req.raw, createBatchSchema, bodyLimit(state.config));
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const { home, upstreamId } = homeOfId(c, state, caller, catalog, 'file', body.input_file_id);
    const metadata = ownedMetadata(body.metadata, caller, home, 'batch');
    const { release } = await admitCreation(c, state, home, crypto.randomUUID());
    try {
      // A key's batch runs only its group's model, whatever the file says (the master key's, anything); an admin
      // JWT held to its role's or scopes' models (permits) is held as a key is, so its file cannot name another model.
      if (caller.kind !== 'master' || caller.permits) {
        const input = await home.send({ method: 'GET', path: `files/${encodeURIComponent(upstreamId)}/content`, query: [] });
        await checkBatchInput(input.body ?? new ReadableStream(), home.deployment.model, body.endpoint);
      }
      const res = await home.send({
        method: 'POST', path: 'batches', query: [],
        body: JSON.stringify({
          input_file_id: upstreamId, endpoint: body.endpoint, completion_window: body.completion_window,
          metadata,
          ...(body.output_expires_after ? { output_expires_after: body.output_expires_after } : {}),
        }),
      });
      const batch = await res.json() as BatchObject;
      warnIfUnowned(batch, home, 'batch');
      if (typeof batch?.id !== 'string') throw new GatewayError('The provider answered the batch without an id', { status: 502, type: 'api_error' });
      // Billed once it is over, whether or not the client reads it: the watch starts before the client learns its id.
      {
        const unwatched = await watchLaterWork(c.env, c.executionCtx, home.deployment, {
          kind: 'batch', deploymentId: home.deployment.id, group: home.deployment.group, id: batch.id, endpoint: body.endpoint,
          creator: caller.token, owner: responseOwner(caller), master: caller.kind === 'master', trackedAt: Date.now(),
        }, requestTimeoutMs(state.config));
        if (unwatched) throw unwatched;
      }
      return batchAnswer(home, batch);
    } finally {
      release();
    }
  } catch (err) {
    return errorResponse(err);
  }
}

/** `GET /v1/batches/{id}` and `POST /v1/batches/{id}/cancel`; a batch seen over is billed (once) to the key that created it. */
export function batchById(method: 'GET' | 'POST', suffix: '' | '/cancel') {
  return async (c: Ctx): Promise<Response> => {
    try {
      const { home, upstreamId } = await homeOfRouteId(c, 'batch');
      const res = await home.send({ method, path: `batches/${encodeURIComponent(upstreamId)}${suffix}`, query: [], ...(method === 'POST' ? { body: '{}' } : {}) });
      const batch = await res.json() as BatchObject;
      await billWhenOver(c, home, batch);
      return batchAnswer(home, batch);
    } catch (err) {
      return errorResponse(err);
    }
  };
}

/**
 * `GET /v1/batches?model=...`: the account's batches the caller owns (all of them for the master key),
 * newest first, `limit` (20, at most 100) a page after `after`.
 */
export async function listBatches(c: Ctx): Promise<Response> {
  try {
    const { caller, home } = await homeOfRouteGroup(c);
    const page = await listOwned<BatchObject>(c, caller, home, 'batch', 'batches');
    // A list names output files too: a batch seen done here is billed as when read alone.
    await Promise.all(page.own.map((batch) => billWhenOver(c, home, batch)));
    return ownedListAnswer(home, page.own.map((b) => shownBatch(home, b)), page);
  } catch (err) {
    return errorResponse(err);
  }
}

/**
 * A read or a list that shows a batch over has its watcher bill it before answering, so the client
 * learns the output file's id only once it is billed (it could otherwise delete the output first). A
 * bill that takes longer than BILL_WAIT_MS (a large output) goes on without holding the answer up.
 */
async function billWhenOver(c: Ctx, home: ObjectHome, batch: BatchObject): Promise<void> {
  // The watcher's name pins the deployment: one of another deployment's is not found, and answers at once.
  if (typeof batch?.id !== 'string' || !BATCH_OVER.has(String(batch.status))) return;
  if (!(Number(batch.created_at) * 1000 >= Date.now() - LATER_WORK_BILLED_FOR_MS)) return;
  const billing = laterWorkSeen(c.env, 'batch', home.deployment.id, batch.id, batch).catch((err: unknown) => {
    log.error(`batch ${batch.id as string}: not billed when its output was shown:`, err instanceof Error ? err.message : String(err));
  });
  c.executionCtx.waitUntil(billing);
  await Promise.race([billing, new Promise((resolve) => setTimeout(resolve, BILL_WAIT_MS))]);
}

/** How long a read waits for its batch's bill. */
const BILL_WAIT_MS = 20_000;

function batchAnswer(home: ObjectHome, batch: unknown): Response {
  return Response.json(shownBatch(home, batch as BatchObject), { headers: homeHeaders(home) });
}

/** A batch with the gateway's ids for it and its files, and without the gateway's metadata. */
function shownBatch(home: ObjectHome, batch: BatchObject): BatchObject {
  if (!batch || typeof batch !== 'object') return batch;
  const fileId = (value: unknown) => (typeof value === 'string' && value !== '' ? home.idFor('file', value) : value);
  return {
    ...batch,
    ...(typeof batch.id === 'string' ? { id: home.idFor('batch', batch.id) } : {}),
    input_file_id: fileId(batch.input_file_id), output_file_id: fileId(batch.output_file_id), error_file_id: fileId(batch.error_file_id),
    metadata: shownMetadata(batch.metadata),
  };
}
