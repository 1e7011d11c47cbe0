/**
 * The router settings in effect with `store_model_in_db`: config.yaml's with LiteLLM_Config's `router_settings` row
 * over them (config/stored-router-settings.ts), as LiteLLM re-applies the row every
 * PROXY_CONFIG_RELOAD_INTERVAL_SECONDS. The row is read with the DB models, on the same connection, in the catalog's
 * background refresh (models/catalog.ts), so a change to either lands in the same read.
 *
 * The isolate's config object keeps its identity (modules cache per state and per config by it): only its
 * `router_settings` property is replaced, with an object built when the row changes, never per request. Every
 * router module reads `config.router_settings` when a call needs it, so the next call routes by the new settings.
 */
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import type { TollgateConfig } from '../config/schema.ts';
import { STORED_ROWS } from '../config/stored-rows.ts';
import { noEffectOf, overlayRouterSettings, type RouterSettings } from '../config/stored-router-settings.ts';
import { readConfigRow } from '../db/config-row.ts';
import { log } from '../telemetry/log.ts';

/** The row's `param_value`; undefined when there is no row. */
export const readStoredRouterSettings = (db: NeonDatabase): Promise<unknown> => readConfigRow(db, STORED_ROWS.router_settings);

/** config.yaml's router settings of each config a row may be laid over (its `router_settings` property then changes). */
const fromFiles = new WeakMap<TollgateConfig, RouterSettings>();

/** config.yaml's router settings of `config`, whatever row of the database is laid over them now. */
export function fileRouterSettings(config: TollgateConfig): RouterSettings {
  return fromFiles.get(config) ?? config.router_settings;
}

/** Lays each row read over config.yaml's router settings of one config, rebuilding only when the row changed. */
export class StoredRouterSettings {
  private readonly config: TollgateConfig;
  private readonly fromFile: RouterSettings;
  /** The last row applied, as JSON ('null': none, config.yaml's settings). */
  private applied = 'null';

  constructor(config: TollgateConfig) {
    this.config = config;
    this.fromFile = fileRouterSettings(config);
    fromFiles.set(config, this.fromFile);
    // No row applied yet: config.yaml's, even where an earlier overlay of this config had laid one.
    config.router_settings = this.fromFile;
  }

  /** Applies a row read (undefined or null: no row, config.yaml's settings again); logs once per change, naming keys only. */
  apply(paramValue: unknown): void {
    const row = JSON.stringify(paramValue ?? null);
    if (row === this.applied) return;
    this.applied = row;
    if (paramValue === undefined || paramValue === null) {
      this.config.router_settings = this.fromFile;
      log.info('router_settings: no row in the database any more, config.yaml\'s apply');
      return;
    }
    const { settings, applied, ignored } = overlayRouterSettings(this.fromFile, paramValue);
    this.config.router_settings = settings;
    const noEffect = noEffectOf(this.fromFile, settings, this.config.litellm_settings);
    if (applied.length) log.info(`router_settings: the database's row applies over config.yaml's for ${applied.join(', ')}`);
    if (ignored.length) log.warn(`router_settings stored in the database: ignored, config.yaml's kept, for ${ignored.join('; ')}`);
    if (noEffect.length) log.warn(`router_settings stored in the database: ignored by the router, as in config.yaml: ${noEffect.join('; ')}`);
  }
}
