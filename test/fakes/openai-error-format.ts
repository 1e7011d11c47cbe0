/** OpenAI and Azure OpenAI error bodies: generic, rate limit, invalid key, content filter. */

import { azureSafeFilterResults } from './openai-format-common.ts';

export function openaiError(e: { message: string; type: string; code?: string | null; param?: string | null }) {
  return { error: { message: e.message, type: e.type, param: e.param ?? null, code: e.code ?? null } };
}

/** OpenAI's 429 body (pair it with a `retry-after` header if the test needs one). */
export function openaiRateLimitError(model = 'gpt-4o-mini', retryInSeconds = 1) {
  return openaiError({
    message: `Rate limit reached for ${model} in organization org-FAKE on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in ${retryInSeconds}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
    type: 'tokens',
    code: 'rate_limit_exceeded',
  });
}

export function openaiInvalidApiKeyError(maskedKey = 'sk-test********1234') {
  const message = `Incorrect API key provided: ${maskedKey}. You can find your API key at https://platform.openai.com/account/api-keys.`;
  return openaiError({ message, type: 'invalid_request_error', code: 'invalid_api_key' });
}

/** Azure's `{error:{code,message}}`; extra fields (param, status, type, innererror) only when given, as Azure omits them. */
export function azureError(e: { code: string; message: string; param?: string | null; type?: string | null; status?: number; innererror?: unknown }) {
  return { error: Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) };
}

/** Azure's 429 body: code is the string '429', and the wait is only in the prose (and the retry-after header). */
export function azureRateLimitError(apiVersion = '2024-08-01-preview', retryAfterSeconds = 1) {
  return azureError({
    code: '429',
    message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
  });
}

/** Azure's 400 when the prompt trips the content filter (the shape a real deployment returns). */
export function azureContentFilterError(flagged: 'hate' | 'self_harm' | 'sexual' | 'violence' = 'violence') {
  const results: Record<string, unknown> = azureSafeFilterResults(true);
  results[flagged] = { filtered: true, severity: 'medium' };
  return {
    error: {
      message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: results },
    },
  };
}
