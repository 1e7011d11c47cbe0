/**
 * A fake Azure Monitor Logs Ingestion API on loopback, with Entra ID's token endpoint beside it. The token endpoint
 * (`POST /<tenant>/oauth2/v2.0/token`) grants the client-credentials grant of its app registration for the scope
 * `https://monitor.azure.com/.default` or the others it is given (else 401 invalid_client / 400 invalid_scope, with
 * the AADSTS number); told to, it issues tokens ingestion refuses (as a token of another tenant would be).
 * Ingestion (`POST /dataCollectionRules/<DCR immutable id>/streams/<stream>?api-version=2023-01-01`) is checked as
 * Azure does: a bearer token this fake issued (401), the `api-version` (400), a known DCR (404 NotFound) and a stream
 * it declares (400 InvalidStream), `Content-Type: application/json`, a body of at most 1 MB compressed and
 * uncompressed (413 ContentLengthLimitExceeded), gzip undone when `Content-Encoding: gzip` says so, and a JSON array
 * of objects (400 InvalidPayload); as an Auxiliary table's DCR, records whose `startTime`s span more than 30 minutes
 * (400 RecordsTimeRangeIsMoreThan30Minutes); taken, 204 with no body. Errors come in Azure's shape (`{"error":
 * {"code","message"}}`) with the code in `x-ms-error-code` too, or told to, in only one of them; told to, a
 * message about the records quotes the first, as an error naming a record may. It can be told to fail the next
 * calls (429 with a Retry-After, 403, 500). The token endpoint's `expires_in` can be set (3599 s by default).
 */
import { gunzipSync } from 'node:zlib';
import { serveBodies } from './fake-server.ts';

/** Azure's limit on one call's body, compressed or not. */
const MAX_BODY = 1024 * 1024;

export interface SentinelCall {
  /** The records taken, as the array's objects. */
  records: Record<string, any>[];
  headers: Record<string, string>;
  /** Bytes sent (compressed when gzip) and bytes of JSON. */
  sentBytes: number;
  jsonBytes: number;
}

export interface FakeAzureSentinel {
  url: string;
  dcr: string;
  stream: string;
  client: { tenant: string; clientId: string; clientSecret: string };
  /** Calls taken (204), in order. */
  calls: SentinelCall[];
  /** Every ingestion call's status, in order. */
  statuses: number[];
  /** Token requests: whether each was granted. */
  tokenRequests: boolean[];
  /** Calls refused for what they sent (why): token, api-version, path, content type, size, body. */
  refusals: string[];
  /** The records of every call taken, in order. */
  records(): Record<string, any>[];
  /** The next `times` ingestion calls are answered `status` (429 with `Retry-After: 2`). */
  failNext(status: number, times?: number): void;
  /** Revokes every token issued so far. */
  revokeTokens(): void;
  /** Whether tokens issued from now on are refused by ingestion (401). */
  issueRefusedTokens: boolean;
  /** Where an error's code is: the `x-ms-error-code` header and the JSON body (both), or only one. */
  codeIn: 'both' | 'header' | 'body';
  /** Checks records as an Auxiliary table's DCR does: their times (`startTime`) within 30 minutes of each other. */
  auxiliary: boolean;
  /** Whether a refusal met once the records are read (a failNext, the time range) quotes the first record. */
  quoteRecords: boolean;
  /** The lifetime, in seconds, of the tokens issued from now on. */
  expiresIn: number;
  close(): Promise<void>;
}

const CODES: Record<number, [string, string]> = {
  403: ['OperationFailed', 'The authentication token provided does not have access to ingest data for the data collection rule'],
  429: ['TooManyRequests', 'Too many requests: the data collection rule\'s limit is exceeded.'],
  500: ['InternalServerError', 'Service request failed.'],
  503: ['ServiceUnavailable', 'The service is unavailable.'],
};

/** Auxiliary tables take a call's records only when their times span 30 minutes at most (a documented limitation). */
const AUXILIARY_SPAN_SECONDS = 30 * 60;

export async function startFakeAzureSentinel(options: { dcr: string; stream: string; scopes?: string[] }): Promise<FakeAzureSentinel> {
  const scopes = options.scopes ?? ['https://monitor.azure.com/.default'];
  const client = { tenant: '8f3a1c2e-5b7d-4e9f-a0b1-c2d3e4f5a6b7', clientId: '5e1f0c9a-0000-4000-8000-00000000abcd', clientSecret: 'sentinel~client~secret~0001' };
  const issued = new Set<string>();
  let handed = 0;
  let failing = { status: 0, times: 0 };
  const fake = {
    dcr: options.dcr, stream: options.stream, client, calls: [] as SentinelCall[], statuses: [] as number[], tokenRequests: [] as boolean[], refusals: [] as string[],
    records: () => fake.calls.flatMap((c) => c.records),
    failNext(status: number, times = 1) {
      failing = { status, times };
    },
    revokeTokens() {
      issued.clear();
    },
    issueRefusedTokens: false,
    codeIn: 'both' as FakeAzureSentinel['codeIn'],
    auxiliary: false,
    quoteRecords: false,
    expiresIn: 3599,
  };
  const server = await serveBodies('fake Azure Monitor', (req, res, raw, headers) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const json = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...extra }).end(JSON.stringify(body));
    };
    if (req.method === 'POST' && url.pathname === `/${client.tenant}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(raw.toString('utf8'));
      const known = form.get('grant_type') === 'client_credentials' && form.get('client_id') === client.clientId && form.get('client_secret') === client.clientSecret;
      const scoped = scopes.includes(form.get('scope') ?? '');
      fake.tokenRequests.push(known && scoped);
      if (!known) return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] });
      if (!scoped) return json(400, { error: 'invalid_scope', error_description: 'AADSTS70011: The provided value for scope is not valid.', error_codes: [70011] });
      const token = `eyJ0eXAiOiJKV1QifQ.monitor-test-token-${++handed}`;
      if (!fake.issueRefusedTokens) issued.add(token);
      return json(200, { token_type: 'Bearer', expires_in: fake.expiresIn, ext_expires_in: fake.expiresIn, access_token: token });
    }
    const fail = (status: number, code: string, message: string, why?: string, extra: Record<string, string> = {}) => {
      fake.statuses.push(status);
      if (why) fake.refusals.push(why);
      const error = fake.codeIn === 'header' ? { message } : { code, message };
      return json(status, { error }, fake.codeIn === 'body' ? extra : { 'x-ms-error-code': code, ...extra });
    };
    const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    if (!token || !issued.has(token)) return fail(401, 'InvalidToken', 'The access token is missing, invalid or expired.', `token ${token ? 'not issued' : 'missing'}`, { 'www-authenticate': 'Bearer' });
    const path = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'POST' || !path) return fail(404, 'NotFound', 'The requested resource was not found.', `${req.method} ${url.pathname}`);
    if (url.searchParams.get('api-version') !== '2023-01-01') return fail(400, 'InvalidApiVersion', 'The api-version is not supported.', `api-version ${url.searchParams.get('api-version')}`);
    if (path[1] !== options.dcr) return fail(404, 'NotFound', `Data collection rule with immutable Id '${path[1]}' not found.`, `dcr ${path[1]}`);
    if (decodeURIComponent(path[2]!) !== options.stream) return fail(400, 'InvalidStream', `The stream '${path[2]}' is not declared in the data collection rule.`, `stream ${path[2]}`);
    if (!String(headers['content-type']).startsWith('application/json')) return fail(400, 'InvalidContentType', 'Content-Type must be application/json.', `content-type ${headers['content-type']}`);
    const tooLarge = (n: number) => fail(413, 'ContentLengthLimitExceeded', `Maximum allowed content length: ${MAX_BODY} bytes (1 MB). Provided content length: ${n} bytes.`, `${n} bytes`);
    if (raw.length > MAX_BODY) return tooLarge(raw.length);
    let body: Buffer = raw;
    if (headers['content-encoding'] === 'gzip') {
      try {
        body = Buffer.from(gunzipSync(raw));
      } catch {
        return fail(400, 'InvalidContentEncoding', 'The body is not valid gzip.', 'gzip');
      }
      if (body.length > MAX_BODY) return tooLarge(body.length);
    }
    let records: unknown;
    try {
      records = JSON.parse(body.toString('utf8'));
    } catch {
      records = undefined;
    }
    if (!Array.isArray(records) || records.some((r) => !r || typeof r !== 'object' || Array.isArray(r))) return fail(400, 'InvalidPayload', 'The body is not a JSON array of objects.', 'not an array of objects');
    const times = (records as { startTime?: unknown }[]).map((r) => r.startTime).filter((t): t is number => typeof t === 'number');
    const quoted = fake.quoteRecords ? ` First record: ${JSON.stringify(records[0]).slice(0, 500)}` : '';
    if (fake.auxiliary && Math.max(...times) - Math.min(...times) > AUXILIARY_SPAN_SECONDS) {
      return fail(400, 'RecordsTimeRangeIsMoreThan30Minutes', `The records' time range is more than 30 minutes.${quoted}`, 'time range');
    }
    if (failing.times > 0) {
      failing.times--;
      const [code, message] = CODES[failing.status] ?? ['Failed', 'The call failed.'];
      return fail(failing.status, code, `${message}${quoted}`, undefined, failing.status === 429 ? { 'retry-after': '2' } : {});
    }
    fake.statuses.push(204);
    fake.calls.push({ records: records as Record<string, any>[], headers, sentBytes: raw.length, jsonBytes: body.length });
    res.writeHead(204).end();
  });
  return Object.assign(fake, { url: server.url, close: server.close });
}
