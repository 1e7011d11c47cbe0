import type { Hono } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { createVideo, listVideos, remixVideo, videoById, videoContent } from './videos.ts';

/** OpenAI's Videos API under one prefix (`/v1`, none, `/openai/v1`), as LiteLLM serves it. */
export function videoRoutes(app: Hono<{ Bindings: GatewayEnv }>, prefix: string): void {
  const base = `${prefix}/videos`;
  app.post(base, createVideo);
  app.get(base, listVideos);
  app.get(`${base}/:id`, videoById('GET'));
  app.delete(`${base}/:id`, videoById('DELETE'));
  app.get(`${base}/:id/content`, videoContent);
  app.post(`${base}/:id/remix`, remixVideo);
}
