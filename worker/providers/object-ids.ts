import { base64urlText, type ResponseIdOwner, SAFE_ID, signature, textOfBase64 } from './response-ids.ts';

/**
 * The ids of files, batches and fine-tuning jobs clients see, as LiteLLM
 * makes them for model-based routing (`litellm:<provider's id>;model,<model
 * group>`, base64-encoded behind `file-`, `batch_` or `ftjob-`, OpenAI's own
 * prefixes; `vs_` and `vsfb_` for vector stores and their file batches, `video_` for videos, `cntr_` for containers, `skill_` for Anthropic skills): later calls reach the account that keeps the object from the id
 * alone. Tollgate adds the deployment
 * (`;model_id,`), the owner and a signature, as for Responses ids
 * (response-ids.ts): only the master key, or a key of the same team, user or
 * key, reads, deletes, cancels or batches the object.
 */
export type ObjectKind = 'file' | 'batch' | 'fine_tuning_job' | 'vector_store' | 'vector_store_file_batch' | 'video' | 'container' | 'skill';

const PREFIX: Record<ObjectKind, string> = { file: 'file-', batch: 'batch_', fine_tuning_job: 'ftjob-', vector_store: 'vs_', vector_store_file_batch: 'vsfb_', video: 'video_', container: 'cntr_', skill: 'skill_' };
const ASSEMBLED = /^(litellm:([^;]+)((?:;[a-z_]+,[^;]*)*?))(?:;sig,([A-Za-z0-9_-]+))?$/s;

export interface ManagedObjectId {
  kind: ObjectKind;
  /** The provider's own id of the file or batch. */
  upstreamId: string;
  group?: string;
  deploymentId?: string;
  owner?: string;
  sig?: string;
  /** The text the signature covers. */
  signed?: string;
}

/** A value as it goes into a field: `%`, `;` and `,` escaped, so none ends its field early. */
const field = (value: string) => value.replace(/[%;,]/g, (c) => encodeURIComponent(c));

export function managedObjectId(kind: ObjectKind, upstreamId: string, deployment: { id: string; group: string }, owner: ResponseIdOwner): string {
  let text = `litellm:${upstreamId};model,${field(deployment.group)};model_id,${field(deployment.id)};owner,${field(owner.owner)}`;
  // The kind is signed too: a file's id is no batch's.
  text += `;sig,${signature(owner.key, `${kind}|${text}`)}`;
  return `${PREFIX[kind]}${base64urlText(text)}`;
}

/** The parts of an id managedObjectId (or LiteLLM) made; undefined for any other id (a provider's own). */
export function decodeObjectId(kind: ObjectKind, id: string): ManagedObjectId | undefined {
  if (!id.startsWith(PREFIX[kind]) || id.length > 4096) return undefined;
  const text = textOfBase64(id.slice(PREFIX[kind].length));
  const match = text === undefined ? null : ASSEMBLED.exec(text);
  if (!match || !SAFE_ID.test(match[2]!)) return undefined;
  const fields = new Map<string, string>();
  for (const part of match[3]!.split(';').slice(1)) {
    const comma = part.indexOf(',');
    try {
      fields.set(part.slice(0, comma), decodeURIComponent(part.slice(comma + 1)));
    } catch {
      return undefined;
    }
  }
  const group = fields.get('model');
  const deploymentId = fields.get('model_id');
  const owner = fields.get('owner');
  return {
    kind, upstreamId: match[2]!,
    ...(group ? { group } : {}), ...(deploymentId ? { deploymentId } : {}),
    ...(owner !== undefined && match[4] ? { owner, sig: match[4], signed: `${kind}|${match[1]!}` } : {}),
  };
}
