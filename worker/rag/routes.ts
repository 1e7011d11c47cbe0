import type { Hono } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { ragIngest } from './ingest.ts';
import { ragQuery } from './query.ts';

/** LiteLLM's RAG API, at `/v1/rag/...` and `/rag/...` as LiteLLM serves both. */
export function ragRoutes(app: Hono<{ Bindings: GatewayEnv }>): void {
  for (const prefix of ['/v1', '']) {
    app.post(`${prefix}/rag/ingest`, ragIngest);
    app.post(`${prefix}/rag/query`, ragQuery);
  }
}
