import { describe, expect, it } from 'vitest';
import { openedModelStamp } from '../models/db-models.ts';
import { ownParamsOf, withDefaultParams } from './default-params.ts';

// A deployment's credential is one thing: where it calls and as whom. Defaults never mix into one it has,
// and a provider's own credential fields (aws_*, vertex_*) reach only that provider.

const DEFAULTS = {
  api_key: 'sk-openai-default', api_base: 'https://proxy.example/v1', timeout: 5,
  aws_access_key_id: 'AKIADEFAULT', aws_secret_access_key: 'default-secret', aws_session_token: 'default-token', aws_region_name: 'eu-west-1',
  vertex_project: 'default-project', vertex_location: 'europe-west4', vertex_credentials: '{"type":"service_account"}',
};

describe('withDefaultParams', () => {
  it('gives a Bedrock deployment with its own key pair neither the default api_key nor any default AWS credential', () => {
    const own = { model: 'bedrock/anthropic.claude-3-haiku', aws_access_key_id: 'AKIAOWN', aws_secret_access_key: 'own-secret' };
    expect(withDefaultParams(own, DEFAULTS)).toEqual({ ...own, timeout: 5, aws_region_name: 'eu-west-1' });
  });

  it('gives a Bedrock deployment without credentials the AWS ones, never the api_key or api_base', () => {
    expect(withDefaultParams({ model: 'bedrock/anthropic.claude-3-haiku' }, DEFAULTS)).toEqual({
      model: 'bedrock/anthropic.claude-3-haiku', timeout: 5,
      aws_access_key_id: 'AKIADEFAULT', aws_secret_access_key: 'default-secret', aws_session_token: 'default-token', aws_region_name: 'eu-west-1',
    });
  });

  it('gives an OpenAI deployment the key and base, never AWS or Vertex fields', () => {
    expect(withDefaultParams({ model: 'openai/gpt-4o' }, DEFAULTS)).toEqual({ model: 'openai/gpt-4o', api_key: 'sk-openai-default', api_base: 'https://proxy.example/v1', timeout: 5 });
  });

  it('gives a deployment with its own api_base or api_key neither default: the key and its host go together', () => {
    expect(withDefaultParams({ model: 'hosted_vllm/llama', api_base: 'http://vllm.internal/v1' }, DEFAULTS)).toEqual({ model: 'hosted_vllm/llama', api_base: 'http://vllm.internal/v1', timeout: 5 });
    expect(withDefaultParams({ model: 'anthropic/claude-3-5-sonnet', api_key: 'sk-ant-own' }, DEFAULTS)).toEqual({ model: 'anthropic/claude-3-5-sonnet', api_key: 'sk-ant-own', timeout: 5 });
  });

  it('gives a Vertex AI deployment the vertex_* defaults only, and its own credentials keep the default ones out', () => {
    expect(withDefaultParams({ model: 'vertex_ai/gemini-1.5-pro' }, DEFAULTS)).toEqual({
      model: 'vertex_ai/gemini-1.5-pro', timeout: 5, vertex_project: 'default-project', vertex_location: 'europe-west4', vertex_credentials: '{"type":"service_account"}',
    });
    const own = { model: 'vertex_ai/gemini-1.5-pro', vertex_credentials: '{"own":true}' };
    expect(withDefaultParams(own, DEFAULTS)).toEqual({ ...own, timeout: 5, vertex_project: 'default-project', vertex_location: 'europe-west4' });
  });

  it('remembers the params as the deployment gave them, for copying its credential', () => {
    const own = { model: 'openai/gpt-4o', extra_headers: { 'x-own': '1' } };
    const defaulted = withDefaultParams(own, { ...DEFAULTS, extra_headers: { 'x-default': '2' } });
    expect(defaulted).toMatchObject({ api_key: 'sk-openai-default', extra_headers: { 'x-default': '2', 'x-own': '1' } });
    expect(ownParamsOf(defaulted)).toEqual(own);
    expect(ownParamsOf(own)).toBe(own);
  });
});

describe("a DB model's opened stamp", () => {
  const row = { model_id: 'm1', model_name: 'm', litellm_params: { model: 'openai/gpt-4o' }, model_info: null };

  it('changes with the defaults and with modify_params, so a changed config opens the model again', () => {
    const stamp = (defaults: Parameters<typeof openedModelStamp>[3]) => openedModelStamp(row, 'salt', '', defaults);
    expect(stamp({ params: { api_key: 'a' } })).not.toBe(stamp({ params: { api_key: 'b' } }));
    expect(stamp({ params: {} })).not.toBe(stamp({ params: {}, modifyParams: true }));
    expect(stamp({ params: { timeout: 1 } })).toBe(stamp({ params: { timeout: 1 } }));
  });
});
