import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLangsmith, startFakeLangsmith } from './fakes/langsmith.ts';
import { type FakeIntake, startFakeIntake } from './fakes/log-intake.ts';
import { type FakeS3, startFakeS3 } from './fakes/s3-bucket.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's GET /health/services for the standard loggers: datadog, generic_api (custom_callback_api), langsmith,
// s3 (s3_v2) each get one test StandardLoggingPayload through their own poster, from the admin Worker, to fakes on
// loopback that check their credentials; a refusal is a 503 naming its class, never a secret (the fakes echo the
// credentials they were sent in their refusals); a logger the config names but the admin Worker cannot reach a 422.

const DD_API_KEY = 'dd-api-key-health-secret-0001';
const GENERIC_SECRET = 'generic-health-secret-0001';
const GENERIC_QUERY_SECRET = 'generic-query-secret-0001';
const LANGSMITH_API_KEY = 'lsv2_pt_langsmith-health-secret-0001';
const S3 = { accessKeyId: 'AKIATOLLGATEHEALTH01', secretAccessKey: 's3-health-secret-access-key-0001', sessionToken: 's3-health-session-token-0001', region: 'eu-west-1' };
const SECRETS = [DD_API_KEY, GENERIC_SECRET, GENERIC_QUERY_SECRET, LANGSMITH_API_KEY, S3.secretAccessKey, S3.sessionToken];
/** What a refusal quotes of the destination (after `(<class>): `): not even a secret's first 4 characters. */
const detailOf = (message: string | undefined): string => (message ?? '').slice((message ?? '').indexOf('): ') + 3);

let intake: FakeIntake;
let langsmith: FakeLangsmith;
let s3: FakeS3;
let stack: TestStack;

beforeAll(async () => {
  intake = await startFakeIntake({ ddApiKey: DD_API_KEY });
  langsmith = await startFakeLangsmith({ apiKey: LANGSMITH_API_KEY });
  s3 = await startFakeS3({ bucket: 'health-logs', ...S3 });
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: sk-unused}
litellm_settings:
  callbacks: ["datadog", "custom_callback_api", "langsmith", "gcs_bucket"]
  success_callback: ["s3_v2"]
  s3_callback_params:
    s3_bucket_name: health-logs
    s3_region_name: ${S3.region}
    s3_endpoint_url: "${s3.url}"
    s3_aws_access_key_id: os.environ/S3_HEALTH_ACCESS_KEY_ID
    s3_aws_secret_access_key: os.environ/S3_HEALTH_SECRET_ACCESS_KEY
    s3_aws_session_token: os.environ/S3_HEALTH_SESSION_TOKEN
`,
    env: {
      DD_API_KEY, DD_SITE: 'us5.datadoghq.com', DD_BASE_URL: intake.url,
      GENERIC_LOGGER_ENDPOINT: `${intake.url}/generic/logs?token=${GENERIC_QUERY_SECRET}`, GENERIC_LOGGER_HEADERS: `Authorization=Bearer ${GENERIC_SECRET}`,
      // Sampling every run out: the health check's test run is sent all the same.
      LANGSMITH_API_KEY, LANGSMITH_BASE_URL: langsmith.url, LANGSMITH_SAMPLING_RATE: '0',
      S3_HEALTH_ACCESS_KEY_ID: S3.accessKeyId, S3_HEALTH_SECRET_ACCESS_KEY: S3.secretAccessKey, S3_HEALTH_SESSION_TOKEN: S3.sessionToken,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await s3?.close();
  await langsmith?.close();
  await intake?.close();
});

type Answer = { status?: string; message?: string; error?: { message: string; type: string; param: string | null; code: string | null } };
async function check(service: string, key = TEST_MASTER_KEY): Promise<{ status: number; body: Answer; raw: string }> {
  const res = await fetch(`${stack.url}/health/services?service=${service}`, { headers: { authorization: `Bearer ${key}` } });
  const raw = await res.text();
  return { status: res.status, body: JSON.parse(raw) as Answer, raw };
}
const sentId = (answer: Answer) => /Test payload (\S+) sent/.exec(answer.message ?? '')?.[1] ?? '';

describe('GET /health/services for the standard loggers', () => {
  it('datadog: a test log to the intake with DD-API-KEY; a 403 is a 503 "credentials refused" without the key', async () => {
    const ok = await check('datadog');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ status: 'success', message: expect.stringContaining('check datadog') });
    const log = intake.datadog.flatMap((r) => r.items).find((l) => JSON.parse(String(l.message)).id === sentId(ok.body));
    expect(log).toMatchObject({ ddsource: 'litellm', status: 'info' });
    expect(JSON.parse(String(log!.message))).toMatchObject({ end_user: 'litellm:/health/services', messages: [{ role: 'user', content: 'Hey, how\'s it going?' }] });
    intake.failNext('datadog', 403, 1, { echo: true });
    const refused = await check('datadog');
    expect(refused.status).toBe(503);
    expect(refused.body.error?.message).toMatch(/^Datadog did not take the test payload \(credentials refused\): HTTP 403: .*you sent \[redacted\]/);
    for (const secret of SECRETS) expect(detailOf(refused.body.error?.message)).not.toContain(secret.slice(0, 4));
    for (const secret of SECRETS) expect(refused.raw).not.toContain(secret.slice(0, 10));
  });

  it('generic_api and its older name custom_callback_api: a JSON array with the configured headers; a 500 is a 503', async () => {
    for (const service of ['generic_api', 'custom_callback_api']) {
      const ok = await check(service);
      expect(ok.status).toBe(200);
      const request = intake.generic.find((r) => r.items.some((p) => p.id === sentId(ok.body)));
      expect(request?.headers.authorization).toBe(`Bearer ${GENERIC_SECRET}`);
      expect(request?.items).toHaveLength(1);
    }
    // The echo of `Bearer <secret>`, its token alone and the query's token starts at the 182nd character of the
    // answer: it is scrubbed whole, and what the answer says after it is still quoted.
    intake.failNext('generic', 500, 1, { echo: true, pad: 140 });
    const refused = await check('generic_api');
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ type: 'service_unavailable', message: expect.stringMatching(/^The generic API endpoint did not take the test payload \(destination error\): HTTP 500/) });
    expect(refused.body.error?.message).toMatch(/you sent \[redacted\] \[redacted\] \?token=\[redacted\]; mind-the-after-text/);
    for (const secret of SECRETS) expect(detailOf(refused.body.error?.message)).not.toContain(secret.slice(0, 4));
    for (const secret of SECRETS) expect(refused.raw).not.toContain(secret.slice(0, 10));
  });

  it('langsmith: a test run to /api/v1/runs/batch whatever LANGSMITH_SAMPLING_RATE; a 401 is a 503 without the API key', async () => {
    const ok = await check('langsmith');
    expect(ok.status).toBe(200);
    expect(langsmith.runs().find((r) => r.inputs?.id === sentId(ok.body))).toMatchObject({ run_type: 'llm', session_name: 'litellm-completion' });
    langsmith.failNext(401, 1, { echo: true });
    const refused = await check('langsmith');
    expect(refused.status).toBe(503);
    expect(refused.body.error?.message).toMatch(/^LangSmith did not take the test payload \(credentials refused\): HTTP 401: .*x-api-key \[redacted\]/);
    for (const secret of SECRETS) expect(detailOf(refused.body.error?.message)).not.toContain(secret.slice(0, 4));
    for (const secret of SECRETS) expect(refused.raw).not.toContain(secret.slice(0, 10));
    expect(langsmith.malformed).toEqual([]);
  });

  it('s3_v2 (s3): a signed test object; SignatureDoesNotMatch is a 503 naming the code only', async () => {
    const ok = await check('s3_v2');
    expect(ok.status).toBe(200);
    const object = s3.puts.find((o) => (JSON.parse(o.body) as { id: string }).id === sentId(ok.body));
    expect(object?.key).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}/time-[\\d-]+_${sentId(ok.body)}\\.json$`));
    s3.failNext(403, 1, 'SignatureDoesNotMatch');
    const refused = await check('s3');
    expect(refused.status).toBe(503);
    expect(refused.body.error?.message).toMatch(/^The S3 bucket did not take the test payload \(credentials refused\): HTTP 403 SignatureDoesNotMatch/);
    for (const secret of [...SECRETS, S3.accessKeyId]) expect(refused.raw).not.toContain(secret);
    for (const secret of [...SECRETS, S3.accessKeyId]) expect(detailOf(refused.body.error?.message)).not.toContain(secret.slice(0, 4));
    expect(s3.rejected).toEqual([]);
  });

  it('a logger the config names but the admin Worker cannot reach is a 422 naming what is missing, and sends nothing', async () => {
    const gcs = await check('gcs_bucket');
    expect(gcs.status).toBe(422);
    expect(gcs.body.error).toMatchObject({ param: 'service', message: expect.stringContaining('GCS_BUCKET_NAME is not set') });
  });

  it('is for proxy admins only: a plain key gets no test sent', async () => {
    const before = intake.datadog.length;
    const key = await seedKey(stack.db.url, { userId: 'user-health-loggers' });
    const denied = await check('datadog', key);
    expect([401, 403]).toContain(denied.status);
    expect(denied.body.error).toBeTruthy();
    expect(intake.datadog.length).toBe(before);
  });
});
