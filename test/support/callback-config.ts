/**
 * The config.yaml head the callback suites share: a model on the fake upstream (`gpt-4o`, its key from
 * `FAKE_OPENAI_KEY`), one nobody answers (`unreachable`, for failed calls) and no retries, so each call makes
 * exactly one callback payload. Ends with a newline; the suite appends its own `litellm_settings`.
 */
export function callbackModels(upstreamUrl: string): string {
  return `model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstreamUrl}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: unreachable
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/FAKE_OPENAI_KEY}
router_settings:
  num_retries: 0
`;
}
