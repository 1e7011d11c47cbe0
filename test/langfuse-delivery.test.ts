/**
 * Langfuse callbacks' delivery: credentials in a key's metadata, Langfuse down or hanging, and
 * Langfuse's per-event answers (207).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { useLangfuseStack } from './support/langfuse-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

const l = useLangfuseStack();
const { generation, trace, keyWithTeam, chatCallId } = l;

describe('credentials in key metadata', () => {
  it('send that key\'s calls to its own Langfuse project, and only there', async () => {
    const key = await keyWithTeam({
      alias: 'team-b-key', team: 'team-b', teamAlias: 'Team B',
      metadata: {
        logging: [{
          callback_name: 'langfuse', callback_type: 'success_and_failure',
          callback_vars: { langfuse_public_key: 'pk-lf-team', langfuse_secret_key: 'os.environ/TEAM_LANGFUSE_SECRET', langfuse_host: l.teamLangfuse.url },
        }],
      },
    });
    const keyClient = new OpenAI({ baseURL: `${l.stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await keyClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'for team b' }] }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const gen = await generation(l.teamLangfuse, callId);
    expect(gen).toMatchObject({ name: 'litellm:team-b-key', output: { role: 'assistant', content: 'echo: for team b' } });
    expect(l.teamLangfuse.requests.every((r) => r.authorized)).toBe(true);
    // The queue message named the key, not the secret; the default project never saw the call.
    await new Promise((r) => setTimeout(r, 500));
    expect(l.langfuse.events.find((e) => e.body.id === callId)).toBeUndefined();
  });
});

describe('credentials in metadata naming the gateway\'s own secrets', () => {
  it('are never sent: not the master key, nor the environment\'s Langfuse secret to another host (settings written before such names were refused)', async () => {
    const since = Date.now();
    for (const [alias, secret] of [['names-master-key', 'os.environ/LITELLM_MASTER_KEY'], ['names-env-langfuse', 'os.environ/LANGFUSE_SECRET_KEY']] as const) {
      const key = await keyWithTeam({
        alias, team: `team-${alias}`, teamAlias: alias,
        metadata: { logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-team', langfuse_secret_key: secret, langfuse_host: l.teamLangfuse.url } }] },
      });
      const keyClient = new OpenAI({ baseURL: `${l.stack.url}/v1`, apiKey: key, maxRetries: 0 });
      expect((await keyClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: alias }] }).withResponse()).response.status).toBe(200);
    }
    // A key with the project's own secret, called after them: once its events have landed, the others have been handled.
    const control = await keyWithTeam({
      alias: 'own-secret', team: 'team-own-secret', teamAlias: 'own-secret',
      metadata: { logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-team', langfuse_secret_key: 'os.environ/TEAM_LANGFUSE_SECRET', langfuse_host: l.teamLangfuse.url } }] },
    });
    const { response } = await new OpenAI({ baseURL: `${l.stack.url}/v1`, apiKey: control, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'control' }] }).withResponse();
    await generation(l.teamLangfuse, response.headers.get('x-litellm-call-id') ?? '');
    await new Promise((r) => setTimeout(r, 1000));
    // The host the metadata named was only ever sent its own project's credentials.
    const received = l.teamLangfuse.requests.filter((r) => r.receivedAt >= since);
    expect(received.length).toBeGreaterThan(0);
    expect(received.every((r) => r.authorized)).toBe(true);
  });
});

describe('Langfuse down', () => {
  it('never affects requests; the events land once it is back', async () => {
    l.langfuse.setMode({ kind: 'fail', status: 500 });
    const seen = l.langfuse.requests.length;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      ids.push(await chatCallId({ metadata: { run: `down-${i}` } }));
      expect(Date.now() - started).toBeLessThan(2000);
    }
    // The consumer tried and was refused...
    await l.langfuse.waitFor((f) => (f.requests.slice(seen).some((r) => r.status === 500) ? true : undefined));
    expect(l.langfuse.generations().filter((g) => ids.includes(g.id))).toEqual([]);
    // ...and sends them again once Langfuse answers.
    l.langfuse.setMode({ kind: 'ok' });
    for (const id of ids) await generation(l.langfuse, id);
  });

  it('when Langfuse hangs, requests go on; the consumer gives up after LANGFUSE_TIMEOUT and tries again', async () => {
    l.langfuse.setMode({ kind: 'hang' });
    const seen = l.langfuse.requests.length;
    const callId = await chatCallId({ metadata: { run: 'hang' } });
    // Requests are served while the consumer waits on Langfuse.
    expect(await chatCallId({ metadata: { run: 'during-hang' } })).toMatch(/^[0-9a-f-]{36}$/);
    // Timed out after 2 s (LANGFUSE_TIMEOUT), retried 2 s later: a second request while it still hangs.
    await l.langfuse.waitFor((f) => (f.requests.length >= seen + 2 ? true : undefined));
    l.langfuse.setMode({ kind: 'ok' });
    await generation(l.langfuse, callId);
  });
});

describe('Langfuse\'s per-event answers (207)', () => {
  it('an event Langfuse rejects as invalid is logged, not retried; the rest of the batch lands', async () => {
    l.langfuse.failEvent((e) => e.type === 'trace-create' && e.body.name === 'reject-me', 400);
    const callId = await chatCallId({ metadata: { trace_name: 'reject-me' } });
    await generation(l.langfuse, callId);
    // A retry would come 2 s after the batch, plus up to 1 s of batching.
    await new Promise((r) => setTimeout(r, 4000));
    const sent = l.langfuse.requests.filter((r) => JSON.stringify(r.body).includes(callId));
    expect(sent).toHaveLength(1);
    expect(l.langfuse.traces().find((t) => t.id === callId)).toBeUndefined();
  });

  it('an event Langfuse fails with a 5xx is sent again', async () => {
    l.langfuse.failEvent((e) => e.type === 'generation-create' && e.body.name === 'fail-once', 500);
    const callId = await chatCallId({ metadata: { generation_name: 'fail-once' } });
    await generation(l.langfuse, callId);
    expect(l.langfuse.requests.filter((r) => JSON.stringify(r.body).includes(callId)).length).toBeGreaterThanOrEqual(2);
    // Sent again whole: Langfuse upserts the trace by its id.
    expect(l.langfuse.traces().filter((t) => t.id === callId).length).toBeGreaterThanOrEqual(1);
  });
});


describe('GET /health/services?service=langfuse', () => {
  const check = async () => {
    const res = await fetch(`${l.stack.url}/health/services?service=langfuse`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    return { status: res.status, body: await res.json() as { status?: string; message?: string; error?: { message: string } } };
  };

  it('sends the configured Langfuse project a test trace now, and says so when Langfuse refuses it', async () => {
    const ok = await check();
    expect(ok).toMatchObject({ status: 200, body: { status: 'success' } });
    const id = /Test trace ([0-9a-f-]{36}) sent - check langfuse\./.exec(ok.body.message ?? '')?.[1];
    expect(id).toBeDefined();
    expect(await trace(l.langfuse, id as string)).toMatchObject({ name: 'litellm-health-check', tags: ['health-check'] });
    l.langfuse.setMode({ kind: 'fail', status: 500 });
    try {
      const down = await check();
      expect(down.status).toBe(503);
      expect(down.body.error?.message).toMatch(/^Langfuse did not take the test trace: HTTP 500/);
      expect(JSON.stringify(down.body)).not.toContain(l.langfuse.secretKey);
    } finally {
      l.langfuse.setMode({ kind: 'ok' });
    }
  });
});

describe('POST /key/health', () => {
  const health = async (key: string) => {
    const res = await fetch(`${l.stack.url}/key/health`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: await res.json() as { key: string; logging_callbacks: { callbacks: string[]; status: string; details: string } | null } };
  };
  const logging = (vars: Record<string, string>, name = 'langfuse') => ({ logging: [{ callback_name: name, callback_vars: vars }] });

  it("sends a test trace to the key's own Langfuse project and says whether it was taken", async () => {
    const key = await keyWithTeam({
      alias: 'health-key', team: 'team-health', teamAlias: 'Health',
      metadata: logging({ langfuse_public_key: 'pk-lf-team', langfuse_secret_key: 'os.environ/TEAM_LANGFUSE_SECRET', langfuse_host: l.teamLangfuse.url }),
    });
    const before = l.teamLangfuse.traces().filter((t) => t.name === 'litellm-health-check').length;
    expect(await health(key)).toMatchObject({ status: 200, body: { key: 'healthy', logging_callbacks: { callbacks: ['langfuse'], status: 'healthy' } } });
    expect(l.teamLangfuse.traces().filter((t) => t.name === 'litellm-health-check')).toHaveLength(before + 1);

    l.teamLangfuse.setMode({ kind: 'fail', status: 500 });
    try {
      const down = await health(key);
      expect(down.body).toMatchObject({ key: 'unhealthy', logging_callbacks: { status: 'unhealthy', details: expect.stringMatching(/langfuse: the test trace was not taken: HTTP 500/) } });
      expect(JSON.stringify(down.body)).not.toContain(l.teamLangfuse.secretKey);
    } finally {
      l.teamLangfuse.setMode({ kind: 'ok' });
    }
  });

  it('names what is wrong: a missing secret, a callback Tollgate does not serve; a key without logging of its own is healthy', async () => {
    const noSecret = await keyWithTeam({ alias: 'health-nosecret', team: 'team-h2', teamAlias: 'H2', metadata: logging({ langfuse_public_key: 'pk-x', langfuse_secret_key: 'os.environ/NO_SUCH_SECRET', langfuse_host: l.teamLangfuse.url }) });
    // The environment's secret stands in for a missing one only at the environment's own host: never sent to the key's.
    const seen = l.teamLangfuse.requests.length;
    const answer = await health(noSecret);
    expect(answer.body).toMatchObject({ key: 'unhealthy', logging_callbacks: { details: expect.stringMatching(/langfuse: no Langfuse public and secret key of its own for its langfuse_host/) } });
    expect(l.teamLangfuse.requests).toHaveLength(seen);
    const other = await keyWithTeam({ alias: 'health-datadog', team: 'team-h3', teamAlias: 'H3', metadata: logging({}, 'datadog') });
    expect((await health(other)).body.logging_callbacks?.details).toMatch(/datadog: not a callback Tollgate sends a key's events to/);
    const plain = await keyWithTeam({ alias: 'health-plain', team: 'team-h4', teamAlias: 'H4' });
    expect(await health(plain)).toEqual({ status: 200, body: { key: 'healthy', logging_callbacks: null } });
  });

  it('follows no redirect from a key\'s host, and shows the caller only the status of what it answered', async () => {
    const seen = l.teamLangfuse.requests.length;
    const redirector = createServer((req, res) => {
      res.writeHead(req.url === '/api/public/ingestion' ? 302 : 500, { location: `${l.teamLangfuse.url}/api/public/ingestion`, 'content-type': 'text/plain' });
      res.end('internal page: secret-looking text');
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = redirector.address() as AddressInfo;
      const key = await keyWithTeam({ alias: 'health-redirect', team: 'team-h5', teamAlias: 'H5', metadata: logging({ langfuse_public_key: 'pk-lf-team', langfuse_secret_key: 'sk-literal', langfuse_host: `http://127.0.0.1:${port}` }) });
      const answer = await health(key);
      expect(answer.body.logging_callbacks?.details).toBe('Logging test failed: langfuse: the test trace was not taken: HTTP 302 (a redirect, not followed)');
      expect(l.teamLangfuse.requests).toHaveLength(seen);
    } finally {
      await new Promise((resolve) => redirector.close(resolve));
    }
  });
});
