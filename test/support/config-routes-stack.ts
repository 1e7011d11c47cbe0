import { afterAll, beforeAll } from 'vitest';
import { adminClient } from './admin.ts';
import { startTestStack, type TestStack } from './stack.ts';

/**
 * What the database-stored settings suites share (config-routes.test.ts, config-list.test.ts): a stack with
 * store_model_in_db on, router_settings and general_settings in config.yaml (a pass-through endpoint carrying
 * secrets), and calls to read the stored rows, update them and list the fields.
 */

export const PASS_THROUGH_SECRET = 'sk-pass-through-secret-0123456789';
export const TARGET_SECRET = 'sk-target-secret-0123456789';

const CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok"}
  - model_name: mock-b
    litellm_params: {model: mock/mock-b, mock_response: "ok"}
router_settings: {timeout: 30, num_retries: 1, retry_policy: {RateLimitErrorRetries: 3}}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  store_model_in_db: true
  max_request_size_mb: 10
  pass_through_endpoints:
    - {path: /my-api, target: "http://127.0.0.1:9/v1?api_key=${TARGET_SECRET}", headers: {Authorization: "Bearer ${PASS_THROUGH_SECRET}"}}
`;

/** One field as /config/list answers it. */
type Entry = { field_name: string; field_value: unknown; stored_in_db: boolean | null; field_type: string };

/** Starts the suite's stack (registered as the calling test file's beforeAll/afterAll) and returns the calls on it. */
export function useConfigRoutesStack() {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: CONFIG });
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const admin = adminClient(() => stack);
  /** A LiteLLM_Config row's param_value, undefined when there is none. */
  const row = async (name: string) => (await admin.rows('SELECT param_value FROM "LiteLLM_Config" WHERE param_name = $1', [name]))[0]?.param_value;
  const update = (body: unknown, key?: string) => admin.call('/config/update', body, key);
  /** /config/list's fields of one config_type, by name. */
  const listed = async (type: string) => Object.fromEntries((await admin.ok(`/config/list?config_type=${type}`) as Entry[]).map((e) => [e.field_name, e]));
  return { admin, row, update, listed };
}
