// What of an A2A call's client headers the gateway's logs may read: call.ts hands the settler (spend row, loggers,
// Langfuse, OpenTelemetry) withoutCredentials(headers, [keyHeader, ...agentHeaders(...).unlogged]). The only
// places a logger copies request headers into what it sends are Langfuse's `langfuse_*` headers (requester
// metadata, in Langfuse's trace and the standard logging payload); spend rows read only `x-litellm-*` ones, which
// an agent never gets. So an agent's header named like Langfuse's is where a leak would show.
import { describe, expect, it } from 'vitest';
import { headerSnapshot, withoutCredentials } from '../proxy/header-views.ts';
import { requestLangfuseMetadata } from '../telemetry/langfuse/request-metadata.ts';
import { buildStandardPayload, type StandardCall } from '../telemetry/standard/payload.ts';
import { agentHeaders, type HeaderRules } from './agent-headers.ts';

const agent: HeaderRules = {
  agent_id: 'id-1', agent_name: 'helper', staticHeaders: { 'X-Static': 's' }, extraHeaders: ['X-Agent-Token', 'langfuse_trace_user_id'],
};
const others = [agent, { agent_id: 'id-2', agent_name: 'other' }];
const client = headerSnapshot(new Headers({
  authorization: 'Bearer sk-gateway-key', 'x-agent-token': 'extra-secret', langfuse_trace_user_id: 'extra-langfuse-secret',
  'x-a2a-helper-x-tenant': 'own-secret', 'x-a2a-other-x-tenant': 'others-secret', 'x-a2a-nobody-x-tenant': 'stray-secret',
  'x-request-trace': 't-1', langfuse_session_id: 'session-1',
}));
const SECRETS = ['sk-gateway-key', 'extra-secret', 'extra-langfuse-secret', 'own-secret', 'others-secret', 'stray-secret'];

/** The headers as call.ts gives them to the settler. */
function logged() {
  const { headers, unlogged } = agentHeaders(agent, client, undefined, others);
  return { sent: Object.fromEntries(headers), view: withoutCredentials(client, [undefined, ...unlogged]) };
}

function payload(headers: StandardCall['headers']) {
  const record: StandardCall['record'] = {
    request_id: 'c-1', call_type: 'asend_message', api_key: 'a'.repeat(64), spend: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0,
    startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:01.000Z', completionStartTime: '2026-11-27T10:00:01.000Z',
    model: 'a2a_agent/helper', model_id: 'id-1', model_group: 'a2a_agent/helper', custom_llm_provider: 'a2a_agent', api_base: '/a2a/id-1',
    metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: null,
  };
  return buildStandardPayload({ record, endpoint: 'a2a', body: { jsonrpc: '2.0', method: 'message/send' }, stream: false, headers }, { turnOffMessageLogging: false, callbackMessageLoggingOff: false, redactUserApiKeyInfo: false, redactMessagesInExceptions: false, contentChars: 16 * 1024 });
}

describe('an A2A call\'s headers as its logs see them', () => {
  it('holds none the agent is sent from the client, nor any x-a2a-* one (whichever agent it names), nor the gateway key', () => {
    const { sent, view } = logged();
    // What the agent gets: its extra_headers and its own x-a2a-helper-* (unprefixed), its static header.
    expect(sent).toMatchObject({ 'x-agent-token': 'extra-secret', langfuse_trace_user_id: 'extra-langfuse-secret', 'x-tenant': 'own-secret', 'x-static': 's' });
    const seen: Record<string, string> = {};
    view.forEach((value, name) => (seen[name] = value));
    expect(seen).toEqual({ 'x-request-trace': 't-1', langfuse_session_id: 'session-1' });
    for (const name of ['X-Agent-Token', 'langfuse_trace_user_id', 'x-a2a-other-x-tenant', 'authorization']) expect(view.get(name)).toBeNull();
  });

  it('keeps an agent\'s header named like a Langfuse one out of Langfuse\'s metadata and the standard logging payload', () => {
    // Without the stripping the value would be there: the check below can fail.
    expect(requestLangfuseMetadata({}, client).traceFields).toMatchObject({ user_id: 'extra-langfuse-secret' });
    const { view } = logged();
    const langfuse = requestLangfuseMetadata({}, view);
    expect(langfuse.sessionId).toBe('session-1');
    expect(JSON.stringify(langfuse)).not.toContain('extra-langfuse-secret');
    const standard = JSON.stringify(payload(view));
    expect(standard).toContain('session-1');
    for (const secret of SECRETS) expect(standard).not.toContain(secret);
    expect(JSON.stringify(payload(client))).toContain('extra-langfuse-secret');
  });
});
