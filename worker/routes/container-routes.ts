import type { Hono } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { containerFile, containerFiles } from './container-files.ts';
import { containerById, createContainer, listContainers } from './containers.ts';

/** OpenAI's Containers API under one prefix (`/v1`, none, `/openai/v1`), as LiteLLM serves it. */
export function containerRoutes(app: Hono<{ Bindings: GatewayEnv }>, prefix: string): void {
  const base = `${prefix}/containers`;
  app.post(base, createContainer);
  app.get(base, listContainers);
  app.get(`${base}/:id`, containerById('GET'));
  app.delete(`${base}/:id`, containerById('DELETE'));
  app.post(`${base}/:id/files`, containerFiles('POST'));
  app.get(`${base}/:id/files`, containerFiles('GET'));
  app.get(`${base}/:id/files/:file_id`, containerFile('GET', ''));
  app.delete(`${base}/:id/files/:file_id`, containerFile('DELETE', ''));
  app.get(`${base}/:id/files/:file_id/content`, containerFile('GET', '/content'));
}
