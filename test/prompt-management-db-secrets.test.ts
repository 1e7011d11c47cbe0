import { describe, expect, it } from 'vitest';
import { query } from './support/pg-client.ts';
import { api, appliesSoon, type Json, rows, systemSent } from './support/prompt-management-db.ts';
import { fake, PROMPT_KEY, promptApi, stack, usePromptStack } from './support/prompt-management-stack.ts';

// Prompts stored through /prompts: their secrets, stored sealed, shown masked, taken back from a mask and sent to the prompt API alone.

usePromptStack();

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
