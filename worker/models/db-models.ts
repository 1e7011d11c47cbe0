/**
 * Models stored in LiteLLM_ProxyModelTable (`/model/new`): how their
 * credentials are sealed, and how the gateway turns the rows back into
 * deployments. The admin Worker writes with the same functions, so the two
 * cannot disagree on the format.
 */
import { eq } from 'drizzle-orm';
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import { credentials, proxyModels } from '../../drizzle/schema/admin.ts';
import { type CredentialSet, withCredential } from '../config/credentials.ts';
import { type DeploymentDefaults, rememberOwnParams, withDefaultParams } from '../config/default-params.ts';
import { envRefName, resolveEnvRefs } from '../config/env-ref.ts';
import { parseModelRef } from '../config/providers.ts';
import { deploymentSchema, type TollgateConfig } from '../config/schema.ts';
import { StampedRows } from '../db/stamped.ts';
import { pgCode, UNDEFINED_TABLE } from '../db/pg-code.ts';
import type { DeploymentRef, ModelCatalog } from './deployments.ts';
import { log } from '../telemetry/log.ts';

/** Marks a sealed value; anything else in a row is stored as given (plain settings, `os.environ/NAME`). */
export const SEALED_PREFIX = 'tg:v1:';

/** `general_settings.store_model_in_db`, or `STORE_MODEL_IN_DB=True` in the Worker's env (LiteLLM reads both). */
export function storeModelInDb(config: TollgateConfig, env: Record<string, unknown>): boolean {
  if (config.general_settings.store_model_in_db === true) return true;
  const flag = env.STORE_MODEL_IN_DB;
  return flag === true || (typeof flag === 'string' && flag.trim().toLowerCase() === 'true');
}

/** The secret credentials are sealed under: LITELLM_SALT_KEY, else the master key (LiteLLM's fallback). */
export function sealingSecret(env: Record<string, unknown>, masterKey: string | undefined): string | undefined {
  const salt = env.LITELLM_SALT_KEY;
  return typeof salt === 'string' && salt !== '' ? salt : masterKey;
}

const encoder = new TextEncoder();
let derived: { secret: string; key: Promise<CryptoKey> } | undefined;

/**
 * AES-256-GCM key from the secret by HKDF-SHA-256. Derived once per isolate
 * (WebCrypto keeps it non-extractable); a changed secret derives again.
 */
export function sealingKey(secret: string): Promise<CryptoKey> {
  if (derived?.secret !== secret) {
    const key = crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey']).then((base) =>
      crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode('tollgate/LiteLLM_ProxyModelTable'), info: encoder.encode('litellm_params credentials v1') },
        base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'],
      ));
    derived = { secret, key };
  }
  return derived.key;
}

function toBase64Url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  const raw = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/**
 * `tg:v1:` + base64url(iv ‖ ciphertext+tag). The field name is the
 * additional data, so a sealed api_key cannot be passed off as another field.
 */
export async function seal(key: CryptoKey, field: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(field) }, key, encoder.encode(plaintext)));
  const out = new Uint8Array(iv.length + sealed.length);
  out.set(iv);
  out.set(sealed, iv.length);
  return SEALED_PREFIX + toBase64Url(out);
}

export async function unseal(key: CryptoKey, field: string, stored: string): Promise<string> {
  const bytes = fromBase64Url(stored.slice(SEALED_PREFIX.length));
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.slice(0, 12), additionalData: encoder.encode(field) }, key, bytes.slice(12));
  return new TextDecoder().decode(plain);
}

export const isSealed = (value: unknown): value is string => typeof value === 'string' && value.startsWith(SEALED_PREFIX);

/** Whether a value must be sealed: a secret given in clear (an `os.environ/NAME` reference is stored as given). */
const needsSealing = (value: unknown): value is string => typeof value === 'string' && !isSealed(value) && envRefName(value) === undefined;

/**
 * One level of stored values with the secret ones (`isSecret`) sealed, each under its name (after `prefix.`,
 * when there is one) as the additional data. Every sealed format here (models' litellm_params, credentials,
 * MCP servers) is written by this and opened by `openValues`.
 */
export async function sealValues(key: CryptoKey, values: Record<string, unknown>, prefix: string, isSecret: (name: string, value: unknown) => boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) out[name] = isSecret(name, value) && needsSealing(value) ? await seal(key, prefix ? `${prefix}.${name}` : name, value) : value;
  return out;
}

/** One level of stored values with the sealed ones opened (sealValues' inverse); throws without a key, or with the wrong one. */
export async function openValues(key: CryptoKey | undefined, values: Record<string, unknown>, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (!isSealed(value)) out[name] = value;
    else if (!key) throw new Error('sealed values but no key');
    else out[name] = await unseal(key, prefix ? `${prefix}.${name}` : name, value);
  }
  return out;
}

/** Every sealed value of stored `litellm_params` opened (top level and extra_headers); throws if the key is wrong. */
export async function unsealParams(key: CryptoKey, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out = await openValues(key, params, '');
  if (params.extra_headers && typeof params.extra_headers === 'object') out.extra_headers = await openValues(key, params.extra_headers as Record<string, unknown>, 'extra_headers');
  return out;
}

export interface StoredModel {
  model_id: string;
  model_name: string;
  litellm_params: Record<string, unknown>;
  model_info: Record<string, unknown> | null;
}

/**
 * A row as the gateway calls it: credentials opened, `os.environ/NAME`
 * resolved from this Worker's env, checked with config.yaml's schema.
 * Undefined (with a log line naming the model, never a value) when it cannot be served.
 */
export async function deploymentOf(row: StoredModel, key: CryptoKey | undefined, env: Record<string, unknown>, credentials: CredentialSet = new Map(), defaults: DeploymentDefaults = { params: {} }): Promise<DeploymentRef | undefined> {
  const what = `model ${row.model_id} (${row.model_name})`;
  const opened = await openSealed(row.litellm_params, key, what);
  if (!opened) return undefined;
  // Its credential's values under its own (config.yaml's credential_list, or /credentials).
  const params = withCredential(opened, credentials);
  if (!params) {
    log.error(`${what}: names credential "${String(opened.litellm_credential_name)}", which neither credential_list nor /credentials has (or which does not open); not served`);
    return undefined;
  }
  const own = resolveEnvRefs(params, env).value as Record<string, unknown>;
  // router_settings.default_litellm_params (already resolved) where the row and its credential set none.
  const defaulted = withDefaultParams(own, defaults.params);
  const parsed = deploymentSchema.safeParse({ model_name: row.model_name, litellm_params: defaulted, model_info: row.model_info ?? undefined });
  if (!parsed.success) {
    log.error(`model ${row.model_id} (${row.model_name}): invalid in the database (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}); not served`);
    return undefined;
  }
  if (defaulted !== own) rememberOwnParams(parsed.data.litellm_params, own);
  const ref = parseModelRef(parsed.data.litellm_params.model);
  if (!ref.ok) return undefined;
  return {
    id: row.model_id,
    group: parsed.data.model_name,
    provider: ref.provider,
    model: ref.model,
    params: parsed.data.litellm_params,
    info: { ...parsed.data.model_info, id: row.model_id },
    ...(defaults.modifyParams ? { modifyParams: true as const } : {}),
  };
}

/** Stored values with their sealed ones opened; undefined (logged, naming `what`, never a value) when they cannot be. */
async function openSealed(values: Record<string, unknown>, key: CryptoKey | undefined, what: string): Promise<Record<string, unknown> | undefined> {
  if (!Object.values(values).some(isSealed) && !Object.values((values.extra_headers ?? {}) as object).some(isSealed)) return values;
  if (!key) {
    log.error(`${what}: credentials are sealed but neither LITELLM_SALT_KEY nor a master key is set; not served`);
    return undefined;
  }
  try {
    return await unsealParams(key, values);
  } catch {
    log.error(`${what}: credentials do not open with this LITELLM_SALT_KEY; not served`);
    return undefined;
  }
}

/**
 * config.yaml's catalog plus DB deployments: a DB model with a config
 * group's name adds a deployment to that group (as in LiteLLM); one whose id
 * is a config deployment's is ignored, so config models are never disturbed.
 */
export function mergeCatalog(base: ModelCatalog, extra: readonly DeploymentRef[]): ModelCatalog {
  if (extra.length === 0) return base;
  const configIds = new Set<string>();
  for (const list of base.groups.values()) for (const d of list) configIds.add(d.id);
  const groups = new Map(base.groups);
  const accessGroups = new Map([...base.accessGroups].map(([name, members]) => [name, new Set(members)]));
  for (const d of extra) {
    if (configIds.has(d.id)) continue;
    groups.set(d.group, [...(groups.get(d.group) ?? []), d]);
    for (const access of d.info.access_groups ?? []) {
      accessGroups.set(access, (accessGroups.get(access) ?? new Set()).add(d.group));
    }
  }
  return { groups, accessGroups };
}

/** Opened rows by model_id, reused while the row (and its credential) is unchanged. */
const opened = new StampedRows<DeploymentRef | undefined>();
/** Opened /credentials rows by name, likewise. */
const openedCredentials = new StampedRows<Record<string, unknown> | undefined>();

/**
 * What an opened DB model depends on: it is opened again when this changes. The config's defaults are in it,
 * so a changed config (a new GatewayState in a running isolate) does not serve a model opened under the old one.
 */
export function openedModelStamp(row: StoredModel, secret: string | undefined, credentialStamp: string, defaults: DeploymentDefaults): string {
  return JSON.stringify([row.model_name, row.litellm_params, row.model_info, secret !== undefined, credentialStamp, defaults.params, defaults.modifyParams === true]);
}

/** What a refresh reads of the DB models: the unblocked models and the `/credentials` rows. */
export interface DbModelRows {
  rows: StoredModel[];
  credentialRows: { name: string; values: Record<string, unknown> }[];
}

/** Reads every unblocked DB model and every stored credential over the caller's connection (models/catalog.ts). */
export async function readDbModelRows(db: NeonDatabase): Promise<DbModelRows> {
  const [rows, credentialRows] = await Promise.all([
    db.select({ model_id: proxyModels.model_id, model_name: proxyModels.model_name, litellm_params: proxyModels.litellm_params, model_info: proxyModels.model_info })
      .from(proxyModels)
      .where(eq(proxyModels.blocked, false)),
    db.select({ name: credentials.credential_name, values: credentials.credential_values }).from(credentials)
      // A database not yet migrated to 0007 has no credentials table: its models are still served.
      .catch((err: unknown) => {
        if (pgCode(err) === UNDEFINED_TABLE) return [];
        throw err;
      }),
  ]);
  return { rows, credentialRows };
}

/** The servable deployments of what readDbModelRows read. */
export async function dbDeployments(
  { rows, credentialRows }: DbModelRows,
  env: Record<string, unknown>,
  secret: string | undefined,
  configCredentials: CredentialSet,
  defaults: DeploymentDefaults,
): Promise<DeploymentRef[]> {
  const key = secret ? await sealingKey(secret) : undefined;
  // A /credentials row's values win over a credential_list entry of its name, as in LiteLLM; a row that does not open
  // (logged) serves no model, rather than config.yaml's credential of its name.
  const named = new Map(configCredentials);
  for (const { name, values } of credentialRows) {
    const opening = await openedCredentials.get(name, JSON.stringify([values, secret !== undefined]), () => openSealed(values, key, `credential ${name}`));
    if (opening) named.set(name, opening);
    else named.delete(name);
  }
  openedCredentials.forgetUnseen();
  const out: DeploymentRef[] = [];
  for (const row of rows) {
    // A model is opened again when its row changes, or the credential it names does.
    const credential = row.litellm_params.litellm_credential_name;
    const credentialStamp = typeof credential === 'string' ? openedCredentials.stampOf(credential) ?? JSON.stringify(configCredentials.get(credential) ?? null) : '';
    const ref = await opened.get(row.model_id, openedModelStamp(row, secret, credentialStamp, defaults), () => deploymentOf(row, key, env, named, defaults));
    if (ref) out.push(ref);
  }
  opened.forgetUnseen();
  return out;
}
