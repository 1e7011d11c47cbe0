/**
 * When a request waits for a fresh read of the DB models (models/catalog.ts), and so of the router settings stored in
 * the database, read with them: while the isolate's first read has not ended, so the stored settings route its first
 * calls too (the wait is bounded by db/refreshed.ts, and a first read that failed leaves config.yaml's); and when the
 * model it names reaches no deployment (no group, `model_group_alias` or wildcard has it), as `/model/new` may have
 * just added it. A name the catalog routes, an alias or a wildcard's included, never waits.
 */
import type { TollgateConfig } from '../config/schema.ts';
import type { Refreshed } from '../db/refreshed.ts';
import { reachesDeployment } from '../router/resolve-group.ts';
import type { ModelCatalog } from './deployments.ts';

export function mustReadCatalog(config: TollgateConfig, catalog: Refreshed<ModelCatalog>, missing: string | undefined): boolean {
  if (catalog.settledAt === 0) return true;
  if (missing === undefined || catalog.value.groups.has(missing)) return false;
  return !reachesDeployment(config, catalog.value, missing);
}
