// A reference point of the benchmark, not a gateway: the least work any gateway that counts usage
// must do on top of the floor's pass-through. It reads and parses the client's body, names the
// upstream model, sends the body re-serialised, reads the whole answer and parses it for `usage`,
// and answers with the provider's bytes and as many headers as Tollgate sends (LiteLLM's
// x-litellm-* and x-ratelimit-*). No authentication, limits, routing or telemetry.
let calls = 0;
export default {
  async fetch(request, env) {
    if (request.method !== 'POST') return new Response('ok');
    const body = await request.json();
    if (typeof body.model !== 'string') return Response.json({ error: { message: 'model is required' } }, { status: 400 });
    body.model = 'gpt-4o';
    const started = Date.now();
    const upstream = await fetch(`${env.UPSTREAM}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-upstream-key' },
      body: JSON.stringify(body),
    });
    const bytes = await upstream.arrayBuffer();
    const usage = JSON.parse(new TextDecoder().decode(bytes)).usage ?? {};
    const cost = (usage.prompt_tokens ?? 0) * 2.5e-6 + (usage.completion_tokens ?? 0) * 1e-5;
    const took = String(Date.now() - started);
    calls++;
    return new Response(bytes, {
      status: upstream.status,
      headers: {
        'content-type': 'application/json',
        'x-litellm-call-id': crypto.randomUUID(),
        'x-litellm-model-id': 'bench-deployment',
        'x-litellm-model-group': 'bench-gpt',
        'x-litellm-version': '0.1.0',
        'x-litellm-model-api-base': env.UPSTREAM,
        'x-litellm-attempted-retries': '0',
        'x-litellm-attempted-fallbacks': '0',
        'x-litellm-response-cost': String(cost),
        'x-litellm-key-spend': String(calls * cost),
        'x-litellm-response-duration-ms': took,
        'x-litellm-overhead-duration-ms': '0',
        'x-ratelimit-limit-requests': '1000000',
        'x-ratelimit-remaining-requests': String(1_000_000 - calls),
        'x-ratelimit-limit-tokens': '100000000',
        'x-ratelimit-remaining-tokens': String(100_000_000 - calls),
      },
    });
  },
};
