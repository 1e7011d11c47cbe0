import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { deleteKeys } from './keys/delete.ts';
import { generateKey, generateServiceAccountKey, regenerateKey } from './keys/generate.ts';
import { keyAliases, keyInfo, keyInfoV2, listKeys } from './keys/read.ts';
import { keyHealth } from './keys/health.ts';
import {
  blockKeySchema, bulkUpdateKeysSchema, bulkUpdateTeamKeysSchema, deleteKeysSchema, resetKeySpendSchema, generateKeySchema, keyAliasesQuery, keyInfoQuery, keyInfoV2Schema, listKeysQuery, regenerateKeySchema, updateKeySchema,
} from './keys/schemas.ts';
import { blockKey, bulkUpdateKeys, bulkUpdateTeamKeys, resetKeySpend, unblockKey, updateKey } from './keys/update.ts';

/** The keys routes of the management API (LiteLLM-compatible shapes). */
export const keysRoutes = new Hono<AdminBindings>();

const tag = 'keys';

keysRoutes.post('/key/generate', generateKey);
describeRoute({ method: 'post', path: '/key/generate', tag, body: generateKeySchema, summary: 'Create a virtual key; the plain key is returned once (GenerateKeyResponse)' });
keysRoutes.post('/key/service-account/generate', generateServiceAccountKey);
describeRoute({ method: 'post', path: '/key/service-account/generate', tag, body: generateKeySchema, summary: "Create a team's key that belongs to no user (team_id required; user_id ignored)" });

keysRoutes.post('/key/update', updateKey);
describeRoute({ method: 'post', path: '/key/update', tag, body: updateKeySchema, summary: 'Change a key named by key or key_alias; null clears a field' });
keysRoutes.post('/key/bulk_update', bulkUpdateKeys);
describeRoute({ method: 'post', path: '/key/bulk_update', tag, body: bulkUpdateKeysSchema, summary: 'Up to 500 key updates, each on its own: {total_requested, successful_updates, failed_updates}' });
keysRoutes.post('/team/key/bulk_update', bulkUpdateTeamKeys);
describeRoute({ method: 'post', path: '/team/key/bulk_update', tag, body: bulkUpdateTeamKeysSchema, summary: "One update (budgets, limits, models, expiry, tags, metadata) for the named keys of a team, or all of them (up to 500)" });

keysRoutes.post('/key/delete', deleteKeys);
describeRoute({ method: 'post', path: '/key/delete', tag, body: deleteKeysSchema, summary: 'Delete keys (by key or hash, or by alias); copied to LiteLLM_DeletedVerificationToken' });

keysRoutes.get('/key/info', keyInfo);
describeRoute({ method: 'get', path: '/key/info', tag, query: keyInfoQuery, summary: 'A key and its budget; without key, the calling key' });

keysRoutes.post('/v2/key/info', keyInfoV2);
describeRoute({ method: 'post', path: '/v2/key/info', tag, body: keyInfoV2Schema, summary: 'Several keys at once' });

keysRoutes.get('/key/list', listKeys);
describeRoute({ method: 'get', path: '/key/list', tag, query: listKeysQuery, summary: 'Key hashes (or objects with return_full_object), paginated' });
keysRoutes.post('/key/health', keyHealth);
describeRoute({ method: 'post', path: '/key/health', tag, summary: "Whether the calling key's own logging (metadata.logging) works: a test event to each callback" });
keysRoutes.get('/key/aliases', keyAliases);
describeRoute({ method: 'get', path: '/key/aliases', tag, query: keyAliasesQuery, summary: 'The aliases of the keys the caller may list, paginated, optionally searched' });

keysRoutes.post('/key/regenerate', regenerateKey);
describeRoute({ method: 'post', path: '/key/regenerate', tag, body: regenerateKeySchema, summary: 'Rotate a key (named in the body): same row, new key, optional grace_period for the old one' });

keysRoutes.post('/key/:key/regenerate', regenerateKey);
describeRoute({ method: 'post', path: '/key/:key/regenerate', tag, body: regenerateKeySchema, summary: 'Rotate the key named in the path' });

keysRoutes.post('/key/:key/reset_spend', resetKeySpend);
describeRoute({ method: 'post', path: '/key/:key/reset_spend', tag, body: resetKeySpendSchema, summary: "Set the key's spend to reset_to (at most its current spend)" });

keysRoutes.post('/key/block', blockKey);
describeRoute({ method: 'post', path: '/key/block', tag, body: blockKeySchema, summary: 'Block a key (returns the updated row)' });

keysRoutes.post('/key/unblock', unblockKey);
describeRoute({ method: 'post', path: '/key/unblock', tag, body: blockKeySchema, summary: 'Unblock a key (returns the updated row)' });
