/** Which model group names calls can use, for the admin routes that name groups (fallbacks, the public model hub). */
import { and, eq, inArray } from 'drizzle-orm';
import { proxyModels } from '../../drizzle/schema/admin.ts';
import { storeModelInDb } from '../../worker/models/db-models.ts';
import { gatewayState } from '../../worker/state.ts';
import type { AdminContext } from './context.ts';

/**
 * Of `names`, the model groups calls can use: config.yaml's, and with store_model_in_db the database's unblocked
 * models' (a blocked model is not served: readDbModelRows skips it), as LiteLLM checks its router's model names.
 * The database is asked only for the names config.yaml lacks.
 */
export async function servedGroupNames(c: AdminContext, names: readonly string[]): Promise<Set<string>> {
  const { config } = await gatewayState(c.env);
  const wanted = new Set(names);
  const served = new Set(config.model_list.map((d) => d.model_name).filter((name) => wanted.has(name)));
  const missing = [...wanted].filter((name) => !served.has(name));
  if (missing.length && storeModelInDb(config, c.env)) {
    const rows = await c.get('db')().db.selectDistinct({ name: proxyModels.model_name }).from(proxyModels)
      .where(and(inArray(proxyModels.model_name, missing), eq(proxyModels.blocked, false)));
    for (const row of rows) served.add(row.name);
  }
  return served;
}
