import type { Hono } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { skillVersion, skillVersions } from './skill-versions.ts';
import { createSkill, listSkills, skillById } from './skills.ts';

/** Anthropic's Skills API at `/v1/skills`, as LiteLLM serves it among its `anthropic_routes`. */
export function skillRoutes(app: Hono<{ Bindings: GatewayEnv }>): void {
  const base = '/v1/skills';
  app.post(base, createSkill);
  app.get(base, listSkills);
  app.get(`${base}/:id`, skillById('GET'));
  app.delete(`${base}/:id`, skillById('DELETE'));
  app.post(`${base}/:id/versions`, skillVersions('POST'));
  app.get(`${base}/:id/versions`, skillVersions('GET'));
  app.get(`${base}/:id/versions/:version`, skillVersion('GET', ''));
  app.delete(`${base}/:id/versions/:version`, skillVersion('DELETE', ''));
  app.get(`${base}/:id/versions/:version/content`, skillVersion('GET', '/content'));
}
