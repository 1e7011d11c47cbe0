/**
 * LiteLLM's `general_settings.key_management_system` and `key_management_settings`: which secret manager
 * an `os.environ/NAME` the environment does not have is read from, and how it is reached (its own
 * environment variables, LiteLLM's names). Reading only: Tollgate never writes virtual keys to it.
 */
import { z } from 'zod';
import { bool, str, strList } from '../config/fields.ts';

/** The systems Tollgate reads; `aws_secret_manager_v2` is the same AWS Secrets Manager reader. */
export const SUPPORTED_SYSTEMS = ['hashicorp_vault', 'aws_secret_manager', 'aws_secret_manager_v2'] as const;
export type KeyManagementSystem = (typeof SUPPORTED_SYSTEMS)[number];

/** LiteLLM's other `KeyManagementSystem` values: named in the error, so the refusal says what is missing. */
const LITELLM_ONLY = ['azure_key_vault', 'google_kms', 'google_secret_manager', 'aws_kms', 'cyberark', 'custom', 'local'];

export const keyManagementSystemSchema = str.superRefine((value, ctx) => {
  if ((SUPPORTED_SYSTEMS as readonly string[]).includes(value)) return;
  const why = LITELLM_ONLY.includes(value) ? `LiteLLM's "${value}" is not supported by Tollgate` : `unknown key_management_system "${value}"`;
  ctx.addIssue({ code: 'custom', message: `${why}; supported: ${SUPPORTED_SYSTEMS.join(', ')}` });
});

export const keyManagementSettingsSchema = z.object({
  /** Only these names are read from the secret manager (LiteLLM's); others only from the environment. */
  hosted_keys: strList.optional(),
  /** `read_only` (LiteLLM's default) and `read_and_write` read; `write_only` reads nothing. */
  access_mode: z.enum(['read_only', 'write_only', 'read_and_write'], { error: 'expected one of read_only, write_only, read_and_write' }).optional(),
  /** AWS Secrets Manager: one secret holding a JSON object of name → value (LiteLLM's). */
  primary_secret_name: str.optional(),
  /** AWS Secrets Manager's region, before AWS_REGION_NAME / AWS_REGION / AWS_DEFAULT_REGION. */
  aws_region_name: str.optional(),
  // Writing virtual keys to the secret manager: accepted, warned about, never done (keyManagementWarnings).
  store_virtual_keys: bool.optional(),
  prefix_for_stored_virtual_keys: str.optional(),
  description: str.optional(),
  tags: z.unknown().optional(),
});

export type KeyManagementSettings = z.infer<typeof keyManagementSettingsSchema>;

/**
 * The `litellm_params` (and `credential_values`) fields a secret manager may fill: credentials, the values
 * that belong in one. Other fields are read from the environment only.
 */
export const SECRET_FIELDS: readonly string[] = ['api_key', 'aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'vertex_credentials'];

/**
 * Marks (an enumerable symbol key: kept by `{...params}` copies, dropped by JSON, unreachable from an HTTP body)
 * config.yaml's own litellm_params: field → the secret manager name it declared. resolve.ts reads from the
 * manager only these, so a deployment added through the admin API (or a stored credential) cannot name one.
 */
export const DECLARED_SECRETS: unique symbol = Symbol('tollgate.declaredSecrets');

/**
 * Whether a name may be looked up in a secret manager: non-empty `/`-separated segments, none `.` or `..`
 * (which would leave Vault's mount, namespace or path prefix).
 */
export function secretNameAllowed(name: string): boolean {
  return name !== '' && name.length <= 512 && name.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/**
 * Records on each deployment of a checked config the references config.yaml declared for the secret manager
 * (its model_list's own, and those its credential_list lent it): after env-ref resolution, a credential field
 * still holding `os.environ/NAME` is one keepForSecretManager kept, or a name it refused (a warning: such a
 * reference is never read, its calls fail).
 */
export function markDeclaredSecrets(modelList: readonly { litellm_params: object }[], raw: unknown): string[] {
  const hosted = generalOf(raw)?.key_management_settings?.hosted_keys;
  const warnings: string[] = [];
  modelList.forEach((entry, i) => {
    const params = entry.litellm_params as Record<PropertyKey, unknown>;
    let declared: Record<string, string> | undefined;
    for (const field of SECRET_FIELDS) {
      const value = params[field];
      if (typeof value !== 'string' || !value.startsWith('os.environ/')) continue;
      const name = value.slice('os.environ/'.length);
      if (!secretNameAllowed(name)) warnings.push(`model_list[${i}].litellm_params.${field}: os.environ/${name} is not a name Tollgate reads from a secret manager (an empty, "." or ".." segment); calls to this deployment fail`);
      else if (!Array.isArray(hosted) || hosted.includes(name)) (declared ??= {})[field] = name;
    }
    if (declared) params[DECLARED_SECRETS] = declared;
  });
  return warnings;
}

const SECRET_PATH = /^(?:model_list\[\d+\]\.litellm_params|credential_list\[\d+\]\.credential_values)\.([a-z_]+)$/;

interface RawSettings { key_management_system?: unknown; key_management_settings?: { hosted_keys?: unknown; access_mode?: unknown } }

const generalOf = (raw: unknown): RawSettings | undefined => (raw as { general_settings?: RawSettings } | undefined)?.general_settings;

/**
 * Whether config.yaml reads secrets from a secret manager: a supported system, not `write_only`. Works on
 * the raw (unvalidated) config, so the config loader can keep such references before it checks the rest.
 */
export function readsSecrets(raw: unknown): boolean {
  const general = generalOf(raw);
  return typeof general?.key_management_system === 'string'
    && (SUPPORTED_SYSTEMS as readonly string[]).includes(general.key_management_system)
    && general.key_management_settings?.access_mode !== 'write_only';
}

/**
 * A predicate for env-ref.ts's resolveEnvRefs: an `os.environ/NAME` in a credential field that the
 * environment does not have (and `hosted_keys`, when given, names) stays a reference, read from the
 * secret manager when a call uses it. Undefined when config.yaml reads no secrets.
 */
export function keepForSecretManager(raw: unknown, lookup: Record<string, unknown>): ((path: string, value: unknown) => boolean) | undefined {
  if (!readsSecrets(raw)) return undefined;
  const hosted = generalOf(raw)?.key_management_settings?.hosted_keys;
  const hostedNames = Array.isArray(hosted) ? new Set(hosted.filter((n): n is string => typeof n === 'string')) : undefined;
  return (path, value) => {
    const field = SECRET_PATH.exec(path)?.[1];
    if (!field || !SECRET_FIELDS.includes(field) || typeof value !== 'string' || !value.startsWith('os.environ/')) return false;
    const name = value.slice('os.environ/'.length);
    if (!secretNameAllowed(name)) return false;
    const found = lookup[name];
    if (found !== undefined && found !== '') return false;
    return hostedNames === undefined || hostedNames.has(name);
  };
}
