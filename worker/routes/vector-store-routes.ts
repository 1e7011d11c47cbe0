import type { Hono } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { createFileBatch, fileBatchById, vectorStoreFile, vectorStoreFiles } from './vector-store-files.ts';
import { createVectorStore, listVectorStores, searchVectorStore, vectorStoreById } from './vector-stores.ts';

/** OpenAI's Vector Stores API under one prefix (`/v1`, none, `/openai/v1`), as LiteLLM serves it. */
export function vectorStoreRoutes(app: Hono<{ Bindings: GatewayEnv }>, prefix: string): void {
  const base = `${prefix}/vector_stores`;
  app.post(base, createVectorStore);
  app.get(base, listVectorStores);
  app.get(`${base}/:id`, vectorStoreById('GET'));
  app.post(`${base}/:id`, vectorStoreById('POST'));
  app.delete(`${base}/:id`, vectorStoreById('DELETE'));
  app.post(`${base}/:id/search`, searchVectorStore);
  app.post(`${base}/:id/files`, vectorStoreFiles('POST'));
  app.get(`${base}/:id/files`, vectorStoreFiles('GET'));
  app.get(`${base}/:id/files/:file_id`, vectorStoreFile('GET'));
  app.delete(`${base}/:id/files/:file_id`, vectorStoreFile('DELETE'));
  app.post(`${base}/:id/file_batches`, createFileBatch);
  app.get(`${base}/:id/file_batches/:batch_id`, fileBatchById('GET', ''));
  app.post(`${base}/:id/file_batches/:batch_id/cancel`, fileBatchById('POST', '/cancel'));
  app.get(`${base}/:id/file_batches/:batch_id/files`, fileBatchById('GET', '/files'));
}
