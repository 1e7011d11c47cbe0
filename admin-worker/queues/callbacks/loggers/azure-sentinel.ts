/**
 * LiteLLM's `azure_sentinel` callback (AzureSentinelLogger): a batch of StandardLoggingPayloads, successes and
 * failures, POSTed as one JSON array to the Azure Monitor Logs Ingestion API, which a data collection rule (DCR)
 * routes to a table of the Log Analytics workspace Microsoft Sentinel reads:
 * `<AZURE_SENTINEL_ENDPOINT>/dataCollectionRules/<AZURE_SENTINEL_DCR_IMMUTABLE_ID>/streams/<AZURE_SENTINEL_STREAM_NAME>?api-version=2023-01-01`
 * (the stream `Custom-LiteLLM` by default), with an Entra ID token of scope `https://monitor.azure.com/.default`
 * for the app registration `AZURE_SENTINEL_TENANT_ID` / `_CLIENT_ID` / `_CLIENT_SECRET`, else `AZURE_TENANT_ID` /
 * `AZURE_CLIENT_ID` / `AZURE_CLIENT_SECRET` (entra-token.ts; `AZURE_AUTHORITY_HOST` for another cloud's
 * authority). Unlike LiteLLM, the body is sent gzip-compressed, as Microsoft's ingestion SDKs send it.
 */
import { gzipSync } from 'node:zlib';
import { log } from '../../../../worker/telemetry/log.ts';
import { type EventSegment, joinedBody } from '../segment.ts';
import { azureErrorCode } from './azure-error.ts';
import { type EntraClient, entraToken, EntraTokenError, forgetEntraToken } from './entra-token.ts';
import { payloadId } from './payload-split.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, postForAnswer, type PostResult, retryableStatus } from './types.ts';

/** LiteLLM's stream when AZURE_SENTINEL_STREAM_NAME is unset. */
const SENTINEL_DEFAULT_STREAM = 'Custom-LiteLLM';
/** The scope of an Entra token for the Logs Ingestion API. */
export const MONITOR_SCOPE = 'https://monitor.azure.com/.default';
/** The Logs Ingestion API's generally available version, the one LiteLLM calls. */
const API_VERSION = '2023-01-01';
/**
 * A call's body at most, compressed and uncompressed alike (Azure Monitor's service limits; past it Azure answers
 * 413 ContentLengthLimitExceeded, "Maximum allowed content length: 1048576 bytes (1 MB)").
 */
export const SENTINEL_MAX_BODY_BYTES = 1024 * 1024;

/** A DCR's immutable id (`dcr-<32 hex digits>`) and a stream's name (`Custom-<table>`, `Microsoft-<table>`): one path segment each. */
const PATH_NAME = /^[A-Za-z0-9_-]{1,256}$/;

interface SentinelTarget {
  /** The ingestion URL of the DCR's stream, api-version included. */
  url: string;
  client: EntraClient;
}

/** The first of the variables set: LiteLLM's Sentinel-specific name, then the Azure SDK's common one. */
const firstSet = (env: LoggerEnv, names: readonly string[]): string | undefined => names.map((n) => envText(env, n)).find((v) => v !== undefined);

/** The stream's ingestion URL and the app registration from the admin Worker's env, or why no batch can be sent. */
export function azureSentinelTargetOf(env: LoggerEnv): SentinelTarget | { error: string } {
  const dcr = envText(env, 'AZURE_SENTINEL_DCR_IMMUTABLE_ID');
  if (!dcr) return { error: 'AZURE_SENTINEL_DCR_IMMUTABLE_ID is not set for the admin Worker' };
  if (!PATH_NAME.test(dcr)) return { error: 'AZURE_SENTINEL_DCR_IMMUTABLE_ID is not a data collection rule\'s immutable id (dcr-...)' };
  const stream = envText(env, 'AZURE_SENTINEL_STREAM_NAME') ?? SENTINEL_DEFAULT_STREAM;
  if (!PATH_NAME.test(stream)) return { error: 'AZURE_SENTINEL_STREAM_NAME is not a stream name (letters, digits, - and _)' };
  const endpointText = envText(env, 'AZURE_SENTINEL_ENDPOINT');
  if (!endpointText) return { error: 'AZURE_SENTINEL_ENDPOINT is not set for the admin Worker (the DCR\'s logs ingestion endpoint)' };
  const endpoint = httpUrl(endpointText, 'AZURE_SENTINEL_ENDPOINT');
  if ('error' in endpoint) return endpoint;
  const credentials = [['TENANT_ID'], ['CLIENT_ID'], ['CLIENT_SECRET']].map(([part]) => ({
    name: `AZURE_SENTINEL_${part} or AZURE_${part}`, value: firstSet(env, [`AZURE_SENTINEL_${part}`, `AZURE_${part}`]),
  }));
  const missing = credentials.filter((c) => !c.value).map((c) => c.name);
  if (missing.length) return { error: `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set for the admin Worker` };
  const authority = httpUrl(envText(env, 'AZURE_AUTHORITY_HOST') ?? 'https://login.microsoftonline.com', 'AZURE_AUTHORITY_HOST');
  if ('error' in authority) return authority;
  const [tenant, clientId, clientSecret] = credentials.map((c) => c.value!) as [string, string, string];
  return {
    url: `${endpoint.toString().replace(/\/+$/, '')}/dataCollectionRules/${dcr}/streams/${stream}?api-version=${API_VERSION}`,
    client: { authority: authority.toString(), tenant, clientId, clientSecret, scope: MONITOR_SCOPE },
  };
}

/**
 * 400 codes that blame the settings, not the records: the URL's stream, which the DCR does not declare, or its
 * api-version. Microsoft publishes no list of the API's codes; a settings 400 with another code is still retried
 * in the end, by the dispatcher, when it has refused each payload on its own and taken none.
 */
const SETTINGS_REFUSED = new Set(['InvalidStream', 'InvalidApiVersion']);

/**
 * One Logs Ingestion call of a batch's JSON array. A body past the 1 MB limit is never sent: a batch of several
 * payloads is refused as Azure's 413 would be, so the dispatcher splits it; a single payload is logged and dropped
 * (no retry makes it smaller). A 401 drops the kept token (and one issued during this call, refused at once, is
 * the app registration's fault, remembered for a while); it, 403 (the Monitoring Metrics Publisher role not
 * granted on the DCR yet: Azure says its grant takes up to 30 minutes), 404 (no such DCR at this endpoint), 429
 * (over the DCR's requests or data a minute; retried with the consumer's backoff rather than the answer's
 * Retry-After), 5xx and a 400 of SETTINGS_REFUSED are retried. Any other 400 blames the records (such as
 * RecordsTimeRangeIsMoreThan30Minutes, a batch spanning more than 30 minutes for an Auxiliary table): the
 * dispatcher splits the batch, so one payload Azure will not take does not hold back the rest. The reason is the
 * status and Azure's error code, never its message, which may quote a record (a prompt) into logs and alerts.
 */
async function ingest(target: SentinelTarget, segments: readonly EventSegment[]): Promise<PostResult> {
  const body = joinedBody('[', segments, ']');
  const gzipped = body.byteLength > SENTINEL_MAX_BODY_BYTES ? undefined : gzipSync(body);
  // Text gzip cannot shrink grows by its framing: the limit holds for the bytes sent too.
  if (!gzipped || gzipped.byteLength > SENTINEL_MAX_BODY_BYTES) {
    const reason = `${body.byteLength} bytes of logs, over the Logs Ingestion API's 1 MB a call`;
    const [only] = segments;
    if (segments.length > 1 || !only || only.events > 1) return { ok: false, retry: false, reason };
    log.error(`azure_sentinel callback: the payload of call ${payloadId(only)} dropped unsent: ${reason}`);
    return { ok: true, dropped: reason };
  }
  const fresh = new Set<string>();
  let token: string;
  try {
    token = await entraToken(target.client, fresh);
  } catch (err) {
    return { ok: false, retry: true, reason: `no access token for the app registration: ${err instanceof EntraTokenError ? err.message : 'the exchange failed'}` };
  }
  const res = await postForAnswer(target.url, {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipped,
  });
  if ('ok' in res) return res;
  const { answer } = res;
  if (res.status >= 200 && res.status < 300) return { ok: true };
  const code = azureErrorCode(res.headers, answer);
  if (res.status === 401) {
    const refusal = await forgetEntraToken(target.client, token, 'Azure Monitor', fresh, code);
    if (refusal) return { ok: false, retry: true, reason: `no access token for the app registration: ${refusal}` };
  }
  const reason = `HTTP ${res.status}${code ? ` ${code}` : ''}`;
  return { ok: false, retry: retryableStatus(res.status) || (res.status === 400 && SETTINGS_REFUSED.has(code)), reason };
}

export const azureSentinelPoster: LoggerPoster = {
  // No count limit a call, only its size: LiteLLM's batch is 512 payloads.
  maxPayloads: 500,
  // The array's brackets and commas included, the uncompressed body stays within the 1 MB a call.
  maxBytes: SENTINEL_MAX_BODY_BYTES - 1,
  target(env: LoggerEnv) {
    const target = azureSentinelTargetOf(env);
    // Kept for a retry (the dead-letter queue at worst) while the operator mends the settings.
    if ('error' in target) return { error: target.error, retry: true };
    return {
      where: new URL(target.url).origin,
      post: (segments) => ingest(target, segments),
    };
  },
};
