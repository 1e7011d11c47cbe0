/**
 * Config keys that load and validate but whose feature has not landed yet.
 * Each is reported as a warning at compile time and at Worker start, so a
 * setting is never silently ignored. Remove an entry when its feature lands.
 */
export const PENDING_KEYS: Record<string, string> = {};

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
  'general_settings.allow_requests_on_db_unavailable': 'not needed: with Postgres down, a call keeps working from its limiters\' stored policies, budgets held, as long as each limiter it needs (its key\'s, its end user\'s, a budget\'s) has loaded before; otherwise it gets a 503',
  'general_settings.fail_closed_budget_enforcement': 'not needed: budgets are always held by the limiter Durable Objects, which need no database at request time; a call whose limiters cannot be reached is refused, never let through',
  'general_settings.disable_master_key_return': 'not needed: the master key is never stored, so no key listing can return it',
  'general_settings.ui_access_mode': 'not needed: Tollgate has no admin UI',
  'litellm_settings.force_ipv4': 'not needed: the Workers runtime makes the connections (there is no Python HTTP client to pin to IPv4)',
};
