// config.yaml's sections added for LiteLLM's reusable credentials (credential_list) and MCP gateway (mcp_servers).
import { describe, expect, it } from 'vitest';
import { validateConfig } from './validate.ts';

function errorsOf(raw: unknown, env: Record<string, string> = {}): string[] {
  const result = validateConfig(raw, env);
  if (result.ok) throw new Error(`expected errors, got a valid config (warnings: ${result.warnings.join('; ')})`);
  return result.errors;
}

describe("credential_list (LiteLLM's reusable credentials)", () => {
  const azure = {
    credential_name: 'azure-eu',
    credential_values: { api_key: 'os.environ/AZURE_EU_KEY', api_base: 'https://eu.example.openai.azure.com', api_version: '2024-10-21' },
    credential_info: { description: 'EU production' },
  };

  it("gives a deployment each value of its credential it does not set itself; os.environ/ inside is resolved", () => {
    const result = validateConfig({
      credential_list: [azure],
      model_list: [
        { model_name: 'a', litellm_params: { model: 'azure/gpt-4o', litellm_credential_name: 'azure-eu' } },
        { model_name: 'b', litellm_params: { model: 'azure/gpt-4o-mini', litellm_credential_name: 'azure-eu', api_version: '2025-01-01-preview' } },
        { model_name: 'c', litellm_params: { model: 'azure/gpt-4o', api_key: 'own' } },
      ],
    }, { AZURE_EU_KEY: 'eu-secret' });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.model_list.map((d) => d.litellm_params)).toEqual([
      { model: 'azure/gpt-4o', litellm_credential_name: 'azure-eu', api_key: 'eu-secret', api_base: 'https://eu.example.openai.azure.com', api_version: '2024-10-21' },
      { model: 'azure/gpt-4o-mini', litellm_credential_name: 'azure-eu', api_key: 'eu-secret', api_base: 'https://eu.example.openai.azure.com', api_version: '2025-01-01-preview' },
      { model: 'azure/gpt-4o', api_key: 'own' },
    ]);
    expect(result.warnings).toEqual([]);
  });

  it('refuses a deployment naming a credential the list does not have, naming the ones it has', () => {
    expect(errorsOf({ credential_list: [azure], model_list: [{ model_name: 'a', litellm_params: { model: 'azure/gpt-4o', litellm_credential_name: 'azure-us' } }] }))
      .toEqual(['model_list[0].litellm_params.litellm_credential_name: no credential named "azure-us" in credential_list (it has "azure-eu")']);
  });

  it("names the credential when a value it gave is invalid, and warns of a name listed twice", () => {
    const bad = { credential_name: 'broken', credential_values: { api_base: 'not a url' } };
    expect(errorsOf({ credential_list: [bad], model_list: [{ model_name: 'a', litellm_params: { model: 'openai/gpt-4o', litellm_credential_name: 'broken' } }] }))
      .toEqual(['model_list[0].litellm_params.api_base: expected an http(s) URL (from credential_list\'s "broken")']);
    const result = validateConfig({ credential_list: [azure, { ...azure, credential_values: { api_key: 'second' } }], model_list: [] }, {});
    expect(result.warnings).toContain('credential_list[1]: a second credential named "azure-eu" (the first is used, as in LiteLLM)');
    expect(errorsOf({ credential_list: [{ credential_name: 'x' }] })).toEqual(['credential_list[0].credential_values: is required']);
  });
});

describe("mcp_servers (LiteLLM's MCP gateway)", () => {
  it('loads Streamable HTTP and SSE servers, warns of stdio ones, and refuses names with a -', () => {
    const result = validateConfig({ mcp_servers: {
      github: { url: 'https://api.example.com/mcp', auth_type: 'bearer_token', auth_value: 'os.environ/GH' },
      legacy: { url: 'https://old.example.com/sse', transport: 'sse' },
      local: { url: 'http://localhost/none', transport: 'stdio' },
      anthropic: { url: 'https://mcp.example.com/mcp' },
      Alpha: { url: 'https://a.example.com/mcp' },
      alpha: { url: 'https://b.example.com/mcp' },
    } }, { GH: 'token' });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.mcp_servers?.github).toEqual({ url: 'https://api.example.com/mcp', transport: 'http', auth_type: 'bearer_token', auth_value: 'token' });
    expect(result.warnings).toEqual([
      "mcp_servers.Alpha: differs from alpha only in case: a user's own credential (x-mcp-<server>-authorization) names neither, and is ignored",
      'mcp_servers.local: transport stdio is not served (a Worker starts no processes: run the server behind an HTTP endpoint, transport http or sse); its tools are not offered',
      "mcp_servers.anthropic: /anthropic/mcp is under one of the gateway's own routes, which wins: reach this server at /mcp/anthropic",
    ]);
    expect(validateConfig({ mcp_servers: { videos: { url: 'https://v.example.com/mcp' } } }, {}).warnings)
      .toEqual(["mcp_servers.videos: /videos/mcp is under one of the gateway's own routes, which wins: reach this server at /mcp/videos"]);
    expect(errorsOf({ mcp_servers: { 'my-server': { url: 'https://x.example.com/mcp' } } }))
      .toEqual(["mcp_servers.my-server: a server name is 1-64 letters, digits, _ or . (no -, which separates it from its tools' names)"]);
  });
});
