import { describe, expect, it } from 'vitest';
import { eventually } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { api, appliesSoon, dotprompt, generateKey, type Json, promptTableScans, rows, settledScans, systemSent } from './support/prompt-management-db.ts';
import { fake, PROMPT_KEY, promptApi, stack, usePromptStack } from './support/prompt-management-stack.ts';

// Prompts stored through /prompts: who may write and read them, what a caller without a usable key can make
// the gateway do, what a write refuses, and their secrets (their life through the API: prompt-management-db.test.ts).

usePromptStack();

describe('who may change or read them', () => {
  it("anyone but a proxy admin is refused writes with LiteLLM's 403, lists none and reads none", async () => {
    await api('/prompts', { method: 'POST', body: { prompt_id: 'db-private', litellm_params: dotprompt('System: Private.') } });
    const key = await generateKey({ models: ['small'] });
    const writes = [
      [await api('/prompts', { method: 'POST', key, body: { prompt_id: 'x', litellm_params: dotprompt('Hi') } }), 'Only proxy admins can create prompts'],
      [await api('/prompts/db-private', { method: 'PUT', key, body: { litellm_params: dotprompt('Hi') } }), 'Only proxy admins can update prompts'],
      [await api('/prompts/db-private', { method: 'PATCH', key, body: { litellm_params: dotprompt('Hi') } }), 'Only proxy admins can patch prompts'],
      [await api('/prompts/db-private', { method: 'DELETE', key }), 'Only proxy admins can delete prompts'],
      [await api('/prompts/db-private/versions', { key }), 'Only proxy admins can view prompt versions'],
    ] as const;
    for (const [res, message] of writes) expect([res.status, res.json.error.message]).toEqual([403, message]);
    expect((await api('/prompts/list', { key })).json).toEqual({ prompts: [] });
    expect((await api('/prompts/db-private/info', { key })).status).toBe(403);
    expect((await rows('db-private')).length).toBe(1);
  });

  it("a key whose metadata lists prompts lists and reads those only", async () => {
    for (const n of [1, 2, 3, 4]) await api('/prompts', { method: 'POST', body: { prompt_id: 'db-race', litellm_params: dotprompt(`System: Take ${n}.`) } });
    const key = await generateKey({ models: ['small'], metadata: { prompts: ['db-private.v1', 'tutor', 'db-race', 'db-race.v2', 'nope'] } });
    const before = await settledScans();
    const listed = await api('/prompts/list', { key });
    expect((listed.json.prompts as Json[]).map((p) => p.prompt_id)).toEqual(['db-private.v1', 'tutor', 'db-race.v4', 'db-race.v2']);
    // The stored ones in one read of the table, however many the key lists.
    expect(await settledScans() - before).toBe(1);
    expect((await api('/prompts/db-private.v1', { key })).status).toBe(200);
    // However many it lists: LiteLLM returns them all.
    const many = await generateKey({ models: ['small'], metadata: { prompts: [...Array.from({ length: 120 }, (_, i) => `none-${i}`), 'db-private.v1'] } });
    expect(((await api('/prompts/list', { key: many })).json.prompts as Json[]).map((p) => p.prompt_id)).toEqual(['db-private.v1']);
    const other = await api('/prompts/db-race.v1', { key });
    expect([other.status, other.json.error.message]).toEqual([400, 'Prompt db-race.v1 not found']);
  });
});

describe('what a caller without a usable key can make the gateway do', () => {
  it('an unknown key naming a prompt no isolate knows gets its 401, and the gateway reads no stored prompts', async () => {
    const before = await settledScans();
    for (const n of [1, 2, 3]) {
      const res = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-garbage', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'small', prompt_id: `rand-${n}`, messages: [{ role: 'user', content: 'hi' }] }) });
      expect(res.status).toBe(401);
    }
    expect(await settledScans()).toBe(before);
    // A usable key naming one does make it read (the count would have shown the reads).
    expect((await api('/v1/chat/completions', { method: 'POST', body: { model: 'small', prompt_id: 'rand-4', messages: [{ role: 'user', content: 'hi' }] } })).status).toBe(400);
    await eventually(async () => ((await promptTableScans()) > before ? true : undefined));
  });
});

describe('what a write refuses', () => {
  it('litellm_params that could never run are a 400 in the OpenAI envelope, and nothing is written', async () => {
    const cases = [
      { prompt_integration: 'dotprompt' },
      { prompt_integration: 'humanloop' },
      { prompt_integration: 'generic_prompt_management' },
      dotprompt('{% for x in xs %}{{ x }}{% endfor %}'),
    ];
    for (const litellm_params of cases) {
      const res = await api('/prompts', { method: 'POST', body: { prompt_id: 'db-bad', litellm_params } });
      expect([res.status, res.json.error.type, res.json.error.param]).toEqual([400, 'bad_request_error', 'litellm_params']);
    }
    expect(await rows('db-bad')).toEqual([]);
    expect((await api('/prompts', { method: 'POST', body: { prompt_id: 'db-bad.v2', litellm_params: dotprompt('Hi') } })).status).toBe(400);
  });

  it('a new id with ".v" inside, which LiteLLM would split into a prompt and a version, is a 400 saying so', async () => {
    for (const id of ['my.very.prompt', 'a.vb']) {
      const res = await api('/prompts', { method: 'POST', body: { prompt_id: id, litellm_params: dotprompt('Hi') } });
      expect([res.status, res.json.error.param, res.json.error.message]).toEqual([400, 'prompt_id', `prompt_id "${id}" contains ".v": LiteLLM reads a stored prompt's id up to its first ".v" as the prompt and the rest as a version, so a database shared with LiteLLM would mistake it; choose an id without ".v"`]);
      expect(await rows(id)).toEqual([]);
    }
    expect((await api('/prompts', { method: 'POST', body: { prompt_id: 'my.prompt', litellm_params: dotprompt('Hi') } })).status).toBe(200);
  });

  it("config.yaml's prompts are changed only there", async () => {
    expect((await api('/prompts/tutor', { method: 'DELETE' })).json.error.message).toBe('Cannot delete config prompts.');
    expect((await api('/prompts/tutor', { method: 'PUT', body: { litellm_params: dotprompt('Hi') } })).json.error.message).toBe('Cannot update config prompts.');
    expect((await api('/prompts/tutor', { method: 'PATCH', body: { litellm_params: dotprompt('Hi') } })).json.error.message).toBe('Cannot update config prompts.');
    expect((await api('/prompts', { method: 'POST', body: { prompt_id: 'tutor', litellm_params: dotprompt('Hi') } })).status).toBe(400);
  });
});

describe("a stored prompt's secrets", () => {
  it('are stored sealed, never shown or audited in clear, and sent to the prompt API alone; a mask sent back keeps the secret', async () => {
    promptApi.prompts.set('db-remote', { prompt_template: [{ role: 'system', content: 'Remote {{name}}.' }] });
    const created = await api('/prompts', { method: 'POST', body: { prompt_id: 'db-remote', litellm_params: { prompt_integration: 'generic_prompt_management', api_base: promptApi.url, api_key: PROMPT_KEY } } });
    expect(created.json.litellm_params.api_key).toBe('...0001');
    const [row] = await rows('db-remote');
    expect(String((row!.litellm_params as Json).api_key)).toMatch(/^tg:v1:/);
    expect(await systemSent({ prompt_id: 'db-remote' })).toBe('Remote Ada.');
    expect(promptApi.requests.at(-1)!.headers.authorization).toBe(`Bearer ${PROMPT_KEY}`);
    // The masked key sent back with another api_base would send the stored key there: the secret itself is asked for.
    const moved = await api('/prompts/db-remote', { method: 'PUT', body: { litellm_params: { ...created.json.litellm_params, api_base: 'http://127.0.0.1:9/elsewhere' } } });
    expect([moved.status, moved.json.error.param]).toEqual([400, 'litellm_params.api_key']);
    // An answer copied back as it is (its masked key) stores a version that still signs in: v2 asks the prompt
    // API itself, rather than take what v1 was answered.
    const put = await api('/prompts/db-remote', { method: 'PUT', body: { litellm_params: created.json.litellm_params } });
    expect(put.status).toBe(200);
    const [, v2, v3] = await rows('db-remote');
    expect([String((v2!.litellm_params as Json).api_key), v3]).toEqual([expect.stringMatching(/^tg:v1:/), undefined]);
    const asks = promptApi.requests.length;
    await appliesSoon({ prompt_id: 'db-remote.v2', prompt_variables: { name: 'Bo' } }, 'Remote Bo.');
    expect(promptApi.requests.slice(asks).map((r) => r.headers.authorization)).toContain(`Bearer ${PROMPT_KEY}`);
    // A Langfuse secret likewise keeps its langfuse_host.
    const lf = { prompt_integration: 'langfuse', langfuse_host: 'http://127.0.0.1:9', langfuse_public_key: 'pk-lf-0001', langfuse_secret_key: 'sk-lf-secret-0001' };
    const lfCreated = await api('/prompts', { method: 'POST', body: { prompt_id: 'db-lf', litellm_params: lf } });
    const lfMoved = await api('/prompts/db-lf', { method: 'PUT', body: { litellm_params: { ...lfCreated.json.litellm_params, langfuse_host: 'http://127.0.0.1:10' } } });
    expect([lfCreated.json.litellm_params.langfuse_secret_key, lfMoved.status, lfMoved.json.error.param]).toEqual(['...0001', 400, 'litellm_params.langfuse_secret_key']);
    expect((await api('/prompts/db-lf', { method: 'PUT', body: { litellm_params: lfCreated.json.litellm_params } })).status).toBe(200);
    expect((await rows('db-lf')).length).toBe(2);
    const masked = await api('/prompts', { method: 'POST', body: { prompt_id: 'db-remote-2', litellm_params: { prompt_integration: 'generic_prompt_management', api_base: promptApi.url, api_key: '...0001' } } });
    expect([masked.status, masked.json.error.param]).toEqual([400, 'litellm_params.api_key']);
    // An api_base shown with its query masked, sent back as shown, is the stored one; another masked URL is a 400.
    // provider_specific_query_params travel in that query: their values are masked too, taken back with the same api_base only.
    const QUERY_TOKEN = 'tq-query-token-0001';
    const withQuery = { prompt_integration: 'generic_prompt_management', api_base: 'http://127.0.0.1:9/?tenant=t1', api_key: PROMPT_KEY, provider_specific_query_params: { token: QUERY_TOKEN, page: 2 } };
    const q1 = await api('/prompts', { method: 'POST', body: { prompt_id: 'db-query', litellm_params: withQuery } });
    expect([q1.json.litellm_params.api_base, q1.json.litellm_params.provider_specific_query_params]).toEqual(['http://127.0.0.1:9/?****', { token: '****', page: '****' }]);
    expect((await api('/prompts/db-query', { method: 'PUT', body: { litellm_params: q1.json.litellm_params } })).status).toBe(200);
    expect((await rows('db-query')).map((r) => [(r.litellm_params as Json).api_base, (r.litellm_params as Json).provider_specific_query_params]))
      .toEqual([[withQuery.api_base, withQuery.provider_specific_query_params], [withQuery.api_base, withQuery.provider_specific_query_params]]);
    const otherUrl = await api('/prompts/db-query', { method: 'PATCH', body: { litellm_params: { ...q1.json.litellm_params, api_base: 'http://127.0.0.1:9/x?****' } } });
    expect([otherUrl.status, otherUrl.json.error.param]).toEqual([400, 'litellm_params.api_base']);
    const queryMoved = await api('/prompts/db-query', { method: 'PATCH', body: { litellm_params: { ...q1.json.litellm_params, api_base: 'http://127.0.0.1:9/elsewhere', api_key: PROMPT_KEY } } });
    expect([queryMoved.status, queryMoved.json.error.param]).toEqual([400, 'litellm_params.provider_specific_query_params']);
    const unknownParam = await api('/prompts/db-query', { method: 'PATCH', body: { litellm_params: { ...q1.json.litellm_params, provider_specific_query_params: { other: '****' } } } });
    expect([unknownParam.status, unknownParam.json.error.param]).toEqual([400, 'litellm_params.provider_specific_query_params']);
    for (const path of ['/prompts/list', '/prompts/db-remote/info', '/prompts/db-remote/versions', '/prompts/db-query/versions']) expect((await api(path)).text).not.toMatch(new RegExp(`${PROMPT_KEY}|${QUERY_TOKEN}`));
    const audit = await query(stack.db.url, 'SELECT before_value::text AS b, updated_values::text AS a FROM "LiteLLM_AuditLog" WHERE table_name = $1', ['LiteLLM_PromptTable']);
    expect(audit.length).toBeGreaterThan(0);
    for (const entry of audit) expect(`${entry.b} ${entry.a}`).not.toMatch(new RegExp(`${PROMPT_KEY}|${QUERY_TOKEN}`));
    expect(fake.requests.some((r) => JSON.stringify(r).includes(PROMPT_KEY))).toBe(false);
  });
});

describe("the gateway's environment, not the admin Worker's", () => {
  it('a write naming an os.environ/ variable is stored; a call is then a 400 naming the variable the gateway lacks', async () => {
    const created = await api('/prompts', { method: 'POST', body: { prompt_id: 'db-env', litellm_params: { prompt_integration: 'generic_prompt_management', api_base: 'os.environ/TOLLGATE_TEST_UNSET_PROMPT_BASE' } } });
    expect([created.status, created.json.litellm_params.api_base]).toEqual([200, 'os.environ/TOLLGATE_TEST_UNSET_PROMPT_BASE']);
    // A Langfuse prompt relying on the gateway's LANGFUSE_* keys is stored too; this gateway has none.
    expect((await api('/prompts', { method: 'POST', body: { prompt_id: 'db-env-lf', litellm_params: { prompt_integration: 'langfuse' } } })).status).toBe(200);
    for (const [id, message] of [
      ['db-env', 'stored prompt "db-env.v1" cannot be used: litellm_params.api_base is os.environ/TOLLGATE_TEST_UNSET_PROMPT_BASE, which is not set on the gateway'],
      ['db-env-lf', 'stored prompt "db-env-lf.v1" cannot be used: a Langfuse prompt without langfuse_public_key and langfuse_secret_key of its own needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY (for LANGFUSE_HOST) set on the gateway'],
    ]) {
      const res = await api('/v1/chat/completions', { method: 'POST', body: { model: 'small', prompt_id: id, messages: [{ role: 'user', content: 'hi' }] } });
      expect([res.status, res.json.error.param, res.json.error.message]).toEqual([400, 'prompt_id', message]);
    }
  });

  it("a row naming the gateway's master key (written by SQL: the API refuses it) is refused at call time, the key never sent", async () => {
    const params = { prompt_integration: 'generic_prompt_management', api_base: promptApi.url, api_key: 'os.environ/LITELLM_MASTER_KEY' };
    expect((await api('/prompts', { method: 'POST', body: { prompt_id: 'db-master', litellm_params: params } })).status).toBe(422);
    await query(stack.db.url, 'INSERT INTO "LiteLLM_PromptTable" (prompt_id, litellm_params) VALUES ($1, $2)', ['db-master', JSON.stringify(params)]);
    const asks = promptApi.requests.length;
    const res = await api('/v1/chat/completions', { method: 'POST', body: { model: 'small', prompt_id: 'db-master', messages: [{ role: 'user', content: 'hi' }] } });
    expect([res.status, res.json.error.message]).toEqual([400, 'stored prompt "db-master.v1" cannot be used: litellm_params.api_key is os.environ/LITELLM_MASTER_KEY, refused: the gateway\'s own secrets are never sent for a stored prompt']);
    expect(promptApi.requests.length).toBe(asks);
  });
});
