/**
 * Config keys that load and validate but whose feature has not landed yet.
 * Each is reported as a warning at compile time and at Worker start, so a
 * setting is never silently ignored. Remove an entry when its feature lands.
 */
export const PENDING_KEYS: Record<string, string> = {
  'general_settings.public_routes': 'not acted on yet: every route but the health checks needs a key',
};

/**
 * LiteLLM settings that have no meaning on Tollgate's design; they load, and
 * the warning says why they are not needed.
 */
export const UNNEEDED_KEYS: Record<string, string> = {
  'router_settings.redis_host': 'not needed: deployment health is shared through Durable Objects, not Redis',
  'router_settings.redis_port': 'not needed: deployment health is shared through Durable Objects, not Redis',
  'router_settings.redis_password': 'not needed: deployment health is shared through Durable Objects, not Redis',
  'general_settings.database_url': 'the database comes from DATABASE_URL (or the Worker binding); this value is used only by `npm start` and migrations',
  'general_settings.proxy_batch_write_at': 'not needed: spend is written through Queues in batches',
  'general_settings.database_connection_pool_limit': 'not needed: the hot path holds no database connections',
  'general_settings.user_api_key_cache_ttl': 'not needed: key state is never cached past the next admin change',
};
