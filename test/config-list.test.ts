import { describe, expect, it } from 'vitest';
import { PASS_THROUGH_SECRET, TARGET_SECRET, useConfigRoutesStack } from './support/config-routes-stack.ts';

// LiteLLM's general_settings fields (/config/list, /config/field/*): Tollgate reads them from config.yaml, so it lists
// and reads them, secrets masked, and refuses to store or delete any. (/config/update: config-routes.test.ts.)

const { admin, row, listed } = useConfigRoutesStack();

describe('general_settings fields', () => {
  it("lists LiteLLM's general_settings fields with config.yaml's values, a pass-through header masked", async () => {
    const general = await listed('general_settings');
    expect(general.max_request_size_mb).toMatchObject({ field_value: 10, stored_in_db: false, field_type: 'Integer' });
    expect(general.max_parallel_requests).toMatchObject({ field_value: null, stored_in_db: null });
    expect(general.pass_through_endpoints).toMatchObject({ field_type: 'PydanticModel', stored_in_db: false });
    expect(JSON.stringify(general)).not.toContain(PASS_THROUGH_SECRET);
    expect(JSON.stringify(general)).not.toContain(TARGET_SECRET);
    expect((general.pass_through_endpoints!.field_value as { target: string }[])[0]!.target).toBe('http://127.0.0.1:9/v1?****');
    expect((await admin.call('/config/list?config_type=litellm_settings')).status).toBe(422);
  });

  it('reads a stored field, and refuses to store or delete any (read from config.yaml), changing nothing', async () => {
    await admin.rows('INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ($1, $2::jsonb)', ['general_settings', JSON.stringify({ max_parallel_requests: 9 })]);
    expect(await admin.ok('/config/field/info?field_name=max_parallel_requests')).toEqual({ field_name: 'max_parallel_requests', field_value: 9 });
    expect((await listed('general_settings')).max_parallel_requests).toMatchObject({ stored_in_db: true });
    const missing = await admin.call('/config/field/info?field_name=max_response_size_mb');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toBe('Field name=max_response_size_mb not in DB');
    expect((await admin.call('/config/field/info?field_name=master_key')).body.error.message).toBe('Invalid field=master_key passed in.');

    const set = await admin.call('/config/field/update', { field_name: 'max_parallel_requests', field_value: 5, config_type: 'general_settings' });
    expect(set.status).toBe(400);
    expect(set.body.error.message).toContain('set it in config.yaml');
    const del = await admin.call('/config/field/delete', { field_name: 'max_parallel_requests', config_type: 'general_settings' });
    expect(del.status).toBe(400);
    expect((await admin.call('/config/field/update', { field_name: 'nonsense', field_value: 1, config_type: 'general_settings' })).body.error.message).toBe('Invalid field=nonsense passed in.');
    expect((await admin.call('/config/field/update', { field_name: 'max_parallel_requests', field_value: 1, config_type: 'router_settings' })).status).toBe(422);
    expect(await row('general_settings')).toEqual({ max_parallel_requests: 9 });
  });

  it('shows stored pass-through endpoints masked: header values of any type, the target\'s credentials', async () => {
    const endpoints = [{ path: '/x', target: `https://u:${TARGET_SECRET}@api.test/v1?key=${TARGET_SECRET}`, headers: { a: PASS_THROUGH_SECRET, b: { token: PASS_THROUGH_SECRET }, c: 'os.environ/X_KEY' } }];
    await admin.rows('UPDATE "LiteLLM_Config" SET param_value = $2::jsonb WHERE param_name = $1', ['general_settings', JSON.stringify({ pass_through_endpoints: endpoints })]);
    expect(await admin.ok('/config/field/info?field_name=pass_through_endpoints')).toEqual({
      field_name: 'pass_through_endpoints',
      field_value: [{ path: '/x', target: 'https://****@api.test/v1?****', headers: { a: '...6789', b: '****', c: 'os.environ/X_KEY' } }],
    });
  });
});
