/**
 * Path prefixes the admin Worker serves; the gateway forwards them over the service binding. Only paths no gateway
 * route takes come here: `POST /prompts/test` (LiteLLM's prompt playground, a chat call) is the gateway's own (app.ts).
 */
export const ADMIN_PREFIXES = [
  '/key/', '/team/', '/user/', '/organization/', '/customer/', '/end_user/', '/budget/', '/model/',
  '/v1/model/', '/v2/model/', '/model_group/', '/model_hub/', '/spend/', '/global/', '/audit', '/cache/',
  '/v2/key/', '/v2/team/', '/v2/user/', '/provider/', '/tag/', '/credentials/', '/v1/mcp/', '/openapi.json', '/docs', '/health/services',
  '/invitation/', '/onboarding/', '/v1/agents/', '/jwt/key/mapping/', '/prompts/', '/email/event_settings', '/config/update', '/config/list', '/config/field/',
  '/fallback/', '/router/settings', '/router/fields',
];

export function isAdminPath(path: string): boolean {
  return ADMIN_PREFIXES.some((p) => path.startsWith(p) || path === p.replace(/\/$/, ''));
}
