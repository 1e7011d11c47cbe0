import { deploymentPrice } from '../cost/deployment-cost.ts';
import { openDatabase, type DatabaseEnv } from '../db/client.ts';
import { endpointRefusal, providerFor } from '../providers/registry.ts';
import type { Endpoint } from '../providers/types.ts';
import { publicParams } from './public-params.ts';
import { type DeploymentRef, isVideoModel } from './deployments.ts';

/**
 * LiteLLM's model health check: one tiny real call per deployment, six at a
 * time (a one-token chat completion, or an embedding of one word for embedding
 * models; video models are not probed). Run by `GET /health`, or in the background every
 * `health_check_interval` (jobs/background-health.ts), whose results are kept
 * in LiteLLM_HealthCheckTable for `GET /health` to answer from. Probes are not
 * calls: they write no spend log and count against no budget or limit.
 */
export interface ProbeResult {
  deployment: DeploymentRef;
  /** The failure's message; undefined when the deployment answered. */
  error?: string;
  ms: number;
}

/** LiteLLM's answer: endpoints are litellm_params without credentials, an unhealthy one with its error. */
export interface HealthReport {
  healthy_endpoints: Record<string, unknown>[];
  unhealthy_endpoints: Record<string, unknown>[];
  healthy_count: number;
  unhealthy_count: number;
}

/** LiteLLM's default `health_check_interval`, in seconds. */
const DEFAULT_INTERVAL_S = 300;

/** The background checks' interval (`general_settings.health_check_interval`), in ms. */
export function healthCheckIntervalMs(general: { health_check_interval?: number }): number {
  return (general.health_check_interval ?? DEFAULT_INTERVAL_S) * 1000;
}

/** Whether the background checks probe this deployment (`model_info.disable_background_health_check` opts out). */
export function checkedInBackground(d: DeploymentRef): boolean {
  return (d.info as Record<string, unknown>).disable_background_health_check !== true;
}

/** How long one deployment gets to answer its probe. */
const PROBE_TIMEOUT_MS = 10_000;
const PARALLEL_PROBES = 6;
const NO_HEADERS = { get: () => null, forEach: () => undefined };

export async function probeDeployments(env: Record<string, unknown>, all: DeploymentRef[], dropParams: boolean): Promise<ProbeResult[]> {
  // A video model has no cheap probe (one would make a video, billed by the second): not probed, so in neither list.
  const deployments = all.filter((d) => !isVideoModel(d));
  // At most PARALLEL_PROBES at a time: a Worker invocation opens six connections at once and queues the rest,
  // and a probe's timeout runs from its call, so a queued probe could time out before it was sent.
  const results: ProbeResult[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PROBES, deployments.length) }, async () => {
    while (next < deployments.length) {
      const i = next++;
      const deployment = deployments[i] as DeploymentRef;
      const started = Date.now();
      const error = await probe(env, deployment, dropParams);
      results[i] = { deployment, ms: Date.now() - started, ...(error === undefined ? {} : { error }) };
    }
  }));
  return results;
}

/** A second of silence as a WAV file (8 kHz, 16-bit mono; OpenAI takes no less than 0.1 s): what a transcription model is probed with. */
function silence(): File {
  const samples = 8000;
  const wav = new DataView(new ArrayBuffer(44 + samples * 2));
  const text = (at: number, s: string) => [...s].forEach((ch, i) => wav.setUint8(at + i, ch.charCodeAt(0)));
  text(0, 'RIFF');
  wav.setUint32(4, 36 + samples * 2, true);
  text(8, 'WAVEfmt ');
  wav.setUint32(16, 16, true);
  wav.setUint16(20, 1, true);
  wav.setUint16(22, 1, true);
  wav.setUint32(24, 8000, true);
  wav.setUint32(28, 16000, true);
  wav.setUint16(32, 2, true);
  wav.setUint16(34, 16, true);
  text(36, 'data');
  wav.setUint32(40, samples * 2, true);
  return new File([wav.buffer], 'ping.wav', { type: 'audio/wav' });
}

const ONE_PIXEL_PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** One tiny call to the deployment; the error's message when it fails. */
async function probe(env: Record<string, unknown>, d: DeploymentRef, dropParams: boolean): Promise<string | undefined> {
  const mode = d.info.mode ?? deploymentPrice(d)?.mode;
  const mocked = typeof d.params.mock_response === 'string';
  // A model served only through the Responses API (o1-pro, gpt-5-codex, ...) is probed there, where its provider speaks it.
  const responses = mode === 'responses' && !mocked && !endpointRefusal(d, 'responses', false);
  // An image model is probed with one image, as LiteLLM probes it (a real generation, priced as one).
  const image = mode === 'image_generation' && !mocked;
  const endpoint: Endpoint = mode === 'embedding' ? 'embedding' : mode === 'completion' ? 'completion' : responses ? 'responses' : image ? 'image_generation'
    : mode === 'audio_speech' && !mocked ? 'speech' : mode === 'audio_transcription' && !mocked ? 'transcription' : mode === 'rerank' && !mocked ? 'rerank' : mode === 'moderation' && !mocked ? 'moderation' : mode === 'ocr' && !mocked ? 'ocr' : 'chat';
  const body: Record<string, unknown> = endpoint === 'embedding'
    ? { model: d.group, input: ['ping'] }
    : endpoint === 'image_generation' ? { model: d.group, prompt: 'test from litellm', n: 1 }
    : endpoint === 'speech' ? { model: d.group, input: 'ping', voice: 'alloy' }
    : endpoint === 'transcription' ? { model: d.group, file: silence() }
    : endpoint === 'rerank' ? { model: d.group, query: 'ping', documents: ['ping'] }
    : endpoint === 'moderation' ? { model: d.group, input: 'ping' }
      // One page: a 1x1 PNG, inline (Azure AI's OCR takes only data: URIs).
    : endpoint === 'ocr' ? { model: d.group, document: { type: 'image_url', image_url: ONE_PIXEL_PNG } }
    : endpoint === 'completion' ? { model: d.group, prompt: 'ping', max_tokens: 1 }
      // 16: the least max_output_tokens OpenAI takes.
      : endpoint === 'responses' ? { model: d.group, input: 'ping', max_output_tokens: 16 }
        : { model: d.group, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 };
  try {
    const adapter = providerFor(d, endpoint, mocked);
    const answer = await adapter.call({
      endpoint, deployment: d, body: mocked ? { ...body, mock_response: d.params.mock_response } : body,
      stream: false, clientWantsUsage: false, dropParams, env, timeoutMs: PROBE_TIMEOUT_MS, promptTokenEstimate: 1, keepText: false, headers: NO_HEADERS,
    });
    // A body passed on as it arrives (speech) is read to its end: its outcome is known only then.
    if (answer.body instanceof ReadableStream) await new Response(answer.body).arrayBuffer();
    const outcome = await answer.outcome;
    return outcome.error ? outcome.error.message : undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export function healthReport(results: Pick<ProbeResult, 'deployment' | 'error'>[]): HealthReport {
  const endpoint = (d: DeploymentRef) => ({ ...publicParams(d.params), model_group: d.group, model_id: d.id });
  const healthy = results.filter((r) => r.error === undefined).map((r) => endpoint(r.deployment));
  const unhealthy = results.filter((r) => r.error !== undefined).map((r) => ({ ...endpoint(r.deployment), error: r.error }));
  return { healthy_endpoints: healthy, unhealthy_endpoints: unhealthy, healthy_count: healthy.length, unhealthy_count: unhealthy.length };
}

/** How long rows of LiteLLM_HealthCheckTable are kept. */
const KEEP_DAYS = 7;

/** The advisory lock one background run holds (hashtext of a fixed name), so replicas do not probe at once. */
const RUN_LOCK_SQL = `hashtext('tollgate:background-health-checks')`;

/**
 * Claims the background run of interval slot `slot` for this replica: the advisory lock (no other run
 * going) and no run of the same slot stored yet (another replica did it). The claim holds one
 * connection until `release` (the run's results are stored through it); undefined when another
 * replica has it.
 */
export async function claimHealthRun(env: DatabaseEnv, slot: number): Promise<{ db: Queryable; release(): Promise<void> } | undefined> {
  const database = openDatabase(env);
  const client = await database.pool.connect().catch(async (err: unknown) => {
    await database.close();
    throw err;
  });
  const done = async (unlock: boolean) => {
    if (unlock) await client.query(`SELECT pg_advisory_unlock(${RUN_LOCK_SQL})`).catch(() => undefined);
    client.release();
    await database.close();
  };
  try {
    const { rows: [lock] } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${RUN_LOCK_SQL}) AS ok`);
    if (!lock?.ok) {
      await done(false);
      return undefined;
    }
    const { rows: [seen] } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "LiteLLM_HealthCheckTable" WHERE checked_by = 'background' AND details->>'slot' = $1 AND checked_at > now() - interval '1 day'`, [String(slot)]);
    if ((seen?.n ?? 0) > 0) {
      await done(true);
      return undefined;
    }
    return { db: client, release: () => done(true) };
  } catch (err) {
    await done(true);
    throw err;
  }
}

/** What storing needs of a connection (the claim's). */
type Queryable = { query(sql: string, params?: unknown[]): Promise<unknown> };

/** One row per deployment into LiteLLM_HealthCheckTable, in one statement; rows past KEEP_DAYS go. */
export async function storeHealthChecks(db: Queryable, results: ProbeResult[], checkedBy: string, slot?: number): Promise<void> {
  if (results.length === 0) return;
  const rows = results.map((r) => ({
    model_name: r.deployment.group, model_id: r.deployment.id, status: r.error === undefined ? 'healthy' : 'unhealthy',
    healthy_count: r.error === undefined ? 1 : 0, unhealthy_count: r.error === undefined ? 0 : 1,
    error_message: r.error?.slice(0, 2000) ?? null, response_time_ms: r.ms,
    details: { model_group: r.deployment.group, ...(slot === undefined ? {} : { slot: String(slot) }) },
  }));
  await db.query(`
    INSERT INTO "LiteLLM_HealthCheckTable" (model_name, model_id, status, healthy_count, unhealthy_count, error_message, response_time_ms, details, checked_by)
    SELECT model_name, model_id, status, healthy_count, unhealthy_count, error_message, response_time_ms, details, $2
    FROM jsonb_to_recordset($1::jsonb) AS t(model_name text, model_id text, status text, healthy_count int, unhealthy_count int,
      error_message text, response_time_ms float8, details jsonb)`, [JSON.stringify(rows), checkedBy]);
  await db.query(`DELETE FROM "LiteLLM_HealthCheckTable" WHERE checked_at < now() - interval '${KEEP_DAYS} days'`);
}

/** Each deployment's latest stored check (by model_id): its error, or undefined when it was healthy. */
export async function latestHealthChecks(env: DatabaseEnv, deploymentIds: string[]): Promise<Map<string, { error: string | undefined; checkedAt: Date }>> {
  const out = new Map<string, { error: string | undefined; checkedAt: Date }>();
  if (deploymentIds.length === 0) return out;
  const database = openDatabase(env);
  try {
    const { rows } = await database.pool.query<{ model_id: string; status: string; error_message: string | null; checked_at: Date | string }>(`
      SELECT DISTINCT ON (model_id) model_id, status, error_message, checked_at FROM "LiteLLM_HealthCheckTable"
      WHERE model_id = ANY($1) ORDER BY model_id, checked_at DESC`, [deploymentIds]);
    for (const r of rows) out.set(r.model_id, { error: r.status === 'healthy' ? undefined : r.error_message ?? 'unhealthy', checkedAt: new Date(r.checked_at) });
    return out;
  } finally {
    await database.close();
  }
}
