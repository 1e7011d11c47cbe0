import { z } from 'zod';
import type { Caller } from '../auth/authenticate.ts';
import { badRequest, GatewayError } from '../errors.ts';
import { authorizeModel } from '../models/access.ts';
import { type DeploymentRef, isVideoModel, type ModelCatalog } from '../models/deployments.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { readFormData } from '../openai/read-form.ts';
import { decodeObjectId } from '../providers/object-ids.ts';
import { SAFE_ID } from '../providers/response-ids.ts';
import type { GatewayState } from '../state.ts';
import { type Ctx, homeOf, homeOfId, type ObjectHome, sameAccount } from './provider-objects.ts';
import { objectOf, unreadable } from './vector-store-objects.ts';

/**
 * OpenAI's videos (Sora) as the client sends and sees them: which deployment makes one, the request read
 * from JSON or a form, the price of its seconds, and the ids it answers with (the gateway's, signed for
 * the caller: the video's own and the video it remixes).
 */

/** Providers that serve OpenAI's Videos API: OpenAI's `/v1/videos`, Azure OpenAI's `/openai/v1/videos`. */
const VIDEO_PROVIDERS = new Set(['openai', 'azure']);
/** OpenAI's default length, when neither the request nor the answer says one. */
const DEFAULT_SECONDS = 4;

const reference = z.object({ file_id: z.string().min(1).optional(), image_url: z.string().min(1).optional() }).strict();

const createSchema = z.object({
  model: z.string().min(1).optional(),
  prompt: z.string().min(1),
  seconds: z.union([z.string().regex(/^\d+$/), z.number().int().positive()]).optional(),
  size: z.string().min(1).optional(),
  input_reference: reference.optional(),
  // LiteLLM's routing fields: the account comes from `model`.
  custom_llm_provider: z.string().optional(),
});
export type VideoRequest = z.infer<typeof createSchema> & { file?: File };

const remixSchema = z.object({ prompt: z.string().min(1), model: z.string().optional(), custom_llm_provider: z.string().optional() });

/** A home whose requests reach the provider's Videos API (Azure's is under its v1 API, without an api-version). */
export function videoHome(home: ObjectHome): ObjectHome {
  if (home.deployment.provider !== 'azure') return home;
  return { ...home, send: (request) => home.send({ ...request, path: `v1/${request.path}` }) };
}

/**
 * The deployment of a model group that makes its videos: its first OpenAI or Azure video model, for a
 * caller that may call the group; a 400 naming what is missing otherwise.
 */
export function videoHomeOfGroup(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, group: string | undefined): ObjectHome {
  if (!group) throw new GatewayError('Name the video model group: the `model` field, the `model` query parameter or the `x-litellm-model` header', { status: 400, type: 'invalid_request_error', param: 'model' });
  authorizeModel(caller, group, catalog);
  const deployment = catalog.groups.get(group)?.find((d) => VIDEO_PROVIDERS.has(d.provider) && isVideoModel(d));
  if (!deployment) {
    throw new GatewayError(`Model group ${group} has no video generation deployment (openai/ or azure/ with model_info.mode video_generation, or a sora- model)`, { status: 400, type: 'invalid_request_error', param: 'model' });
  }
  return videoHome(homeOf(c, state, caller, deployment));
}

/** A create request, as JSON or as the form the openai SDK sends (`input_reference` a file, or `input_reference[file_id]`). */
export async function readVideoRequest(request: Request, state: GatewayState): Promise<VideoRequest> {
  if (!/^multipart\/form-data/i.test(request.headers.get('content-type') ?? '')) return await readJsonBody(request, createSchema, bodyLimit(state.config));
  const form = await readFormData(request, bodyLimit(state.config).maxBytes ?? 20 * 1024 * 1024, 'the prompt and its fields');
  const fields: Record<string, unknown> = {};
  let file: File | undefined;
  for (const [name, value] of form) {
    const nested = /^input_reference\[(file_id|image_url)\]$/.exec(name);
    if (name === 'input_reference' && value instanceof File) file = value;
    else if (nested) fields.input_reference = { ...(fields.input_reference as object | undefined), [nested[1]!]: value };
    else if (typeof value === 'string') fields[name] = value;
    else throw badRequest(`Unexpected file in field ${name.slice(0, 100)}`);
  }
  const parsed = createSchema.safeParse(fields);
  if (!parsed.success) throw badRequest(`Invalid video request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
  return { ...parsed.data, ...(file ? { file } : {}) };
}

/** A remix's prompt, from JSON or a form. */
export async function readRemixPrompt(request: Request, state: GatewayState): Promise<string> {
  if (!/^multipart\/form-data/i.test(request.headers.get('content-type') ?? '')) return (await readJsonBody(request, remixSchema, bodyLimit(state.config))).prompt;
  const prompt = (await readFormData(request, bodyLimit(state.config).maxBytes ?? 20 * 1024 * 1024, 'the prompt')).get('prompt');
  if (typeof prompt !== 'string' || prompt === '') throw badRequest('prompt is required');
  return prompt;
}

/** The provider's id of a reference file: the caller's own of the video's account, else the 404 of an unknown file (a 400 for another account). */
export function referenceFileId(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, home: ObjectHome, id: string): string {
  if (caller.kind === 'master' && !decodeObjectId('file', id) && SAFE_ID.test(id)) return id;
  const file = homeOfId(c, state, caller, catalog, 'file', id);
  if (!sameAccount(file.home.deployment, home.deployment)) {
    throw new GatewayError(`File ${id.slice(0, 200)} is in another provider account than model group ${home.deployment.group}'s`, { status: 400, type: 'invalid_request_error', param: 'input_reference' });
  }
  return file.upstreamId;
}

/** What the provider gets: a form when a file comes along, else JSON; `model` the deployment's own. */
export function upstreamCreate(request: VideoRequest, model: string, fileId: string | undefined): { body: FormData | string } {
  const seconds = request.seconds === undefined ? undefined : String(request.seconds);
  if (request.file) {
    const form = new FormData();
    form.append('model', model);
    form.append('prompt', request.prompt);
    if (seconds !== undefined) form.append('seconds', seconds);
    if (request.size !== undefined) form.append('size', request.size);
    form.append('input_reference', request.file, request.file.name);
    return { body: form };
  }
  const ref = request.input_reference ? { ...request.input_reference, ...(fileId ? { file_id: fileId } : {}) } : undefined;
  return { body: JSON.stringify({ model, prompt: request.prompt, ...(seconds !== undefined ? { seconds } : {}), ...(request.size ? { size: request.size } : {}), ...(ref ? { input_reference: ref } : {}) }) };
}

/**
 * USD per second of video of a deployment: `output_cost_per_second` (or LiteLLM's
 * `output_cost_per_video_per_second`) from model_info, else litellm_params; 0 where none is set (the
 * bundled price table has no video models).
 */
export function pricePerSecond(deployment: DeploymentRef): number {
  for (const source of [deployment.info, deployment.params] as Record<string, unknown>[]) {
    const price = source.output_cost_per_second ?? source.output_cost_per_video_per_second;
    if (typeof price === 'number') return price;
  }
  return 0;
}

/** The seconds a video is billed for: the provider's answer's, else the request's, else OpenAI's default. */
export function billedSeconds(video: Record<string, unknown>, requested: string | number | undefined): number {
  for (const value of [video.seconds, requested]) {
    const seconds = Number(value);
    if (value !== undefined && value !== null && Number.isFinite(seconds) && seconds > 0) return seconds;
  }
  return DEFAULT_SECONDS;
}

/** A video (or its deletion) as shown: the gateway's ids for the video and the one it remixes. */
export function shownVideo(home: ObjectHome, answer: unknown): Record<string, unknown> {
  const video = objectOf(answer, 'a video');
  const id = (value: unknown) => (typeof value === 'string' && value !== '' ? home.idFor('video', value) : value);
  if (typeof video.id !== 'string' || video.id === '') throw unreadable('a video without an id');
  return { ...video, id: id(video.id), ...('remixed_from_video_id' in video ? { remixed_from_video_id: id(video.remixed_from_video_id) } : {}) };
}
