/**
 * A fake of LiteLLM's generic prompt management API on loopback: `GET /beta/litellm_prompt_management
 * ?prompt_id=..` with `Authorization: Bearer <key>`, answering `{prompt_id, prompt_template,
 * prompt_template_model, prompt_template_optional_params}` for the prompts it holds, 401 for a wrong key,
 * 404 for an unknown prompt, and, when told for a prompt id, a 500 (echoing the bearer key) or no answer at all.
 */
import { type FakeServer, flatHeaders, serveFake } from './fake-server.ts';

export interface PromptAnswer {
  prompt_template: { role: string; content: string }[];
  prompt_template_model?: string;
  prompt_template_optional_params?: Record<string, unknown>;
}

export interface FakePromptApi extends FakeServer {
  /** Each request's query and headers, in order. */
  requests: { query: Record<string, string>; headers: Record<string, string> }[];
  prompts: Map<string, PromptAnswer | 'fail' | 'hang'>;
}

export async function startFakePromptApi(apiKey: string): Promise<FakePromptApi> {
  const requests: FakePromptApi['requests'] = [];
  const prompts: FakePromptApi['prompts'] = new Map();
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = await serveFake((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const headers = flatHeaders(req);
    requests.push({ query: Object.fromEntries(url.searchParams), headers });
    if (req.method !== 'GET' || url.pathname !== '/beta/litellm_prompt_management') return json(res, 404, { detail: 'Not Found' });
    if (headers.authorization !== `Bearer ${apiKey}`) return json(res, 401, { detail: 'invalid api key' });
    const id = url.searchParams.get('prompt_id') ?? '';
    const prompt = prompts.get(id);
    if (prompt === 'hang') return undefined;
    // As some servers do, the failure echoes the request's credentials: the gateway must not pass them on.
    if (prompt === 'fail') return json(res, 500, { detail: `prompt store unavailable (${headers.authorization})` });
    if (!prompt) return json(res, 404, { detail: `prompt ${id} not found` });
    return json(res, 200, { prompt_id: id, ...prompt });
  }, (res, err) => json(res, 500, { detail: String(err) }));
  return { ...server, requests, prompts };
}
