/**
 * Google's Interactions API wire format for the fake upstream (upstream.ts): an interaction as
 * `POST /v1beta/interactions` answers it, and the SSE events of a streamed one (`event:` name, `data:` JSON
 * whose `event_type` repeats it, ended by `event: done` / `data: [DONE]`), snake_case as Google writes them.
 */

export interface InteractionUsage {
  total_input_tokens: number;
  total_output_tokens: number;
  total_thought_tokens?: number;
  total_cached_tokens?: number;
}

const usageOf = (u: InteractionUsage) => ({
  total_tokens: u.total_input_tokens + u.total_output_tokens + (u.total_thought_tokens ?? 0),
  input_tokens_by_modality: [{ modality: 'text', tokens: u.total_input_tokens }],
  total_cached_tokens: 0, total_tool_use_tokens: 0, total_thought_tokens: 0, ...u,
});

/** A completed interaction, as a create (or a GET) answers it. */
export function interaction(id: string, text: string, usage: InteractionUsage, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id, object: 'interaction', model: 'gemini-2.5-flash', status: 'completed', created: '2026-11-27T12:00:00Z', updated: '2026-11-27T12:00:01Z',
    steps: [{ type: 'model_output', content: [{ type: 'text', text }] }], usage: usageOf(usage), ...extra,
  };
}

const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ ...data, event_type: type })}\n\n`;

/** The events of a streamed interaction writing `pieces`, its usage at `interaction.completed`. */
export function interactionEvents(id: string, pieces: string[], usage: InteractionUsage): string[] {
  const partial = { id, object: 'interaction', model: 'gemini-2.5-flash', created: '2026-11-27T12:00:00Z', updated: '2026-11-27T12:00:00Z' };
  return [
    event('interaction.created', { interaction: { ...partial, status: 'in_progress' }, event_id: 'e1' }),
    event('interaction.status_update', { interaction_id: id, status: 'in_progress', event_id: 'e2' }),
    event('step.start', { index: 0, step: { type: 'model_output' }, event_id: 'e3' }),
    ...pieces.map((text, i) => event('step.delta', { index: 0, delta: { type: 'text', text }, event_id: `d${i}` })),
    event('step.stop', { index: 0, event_id: 'e4' }),
    event('interaction.completed', { interaction: { ...partial, status: 'completed', usage: usageOf(usage) }, event_id: 'e5' }),
    'event: done\ndata: [DONE]\n\n',
  ];
}

/** Google's error body. */
export const googleErrorBody = (code: number, status: string, message: string) => ({ error: { code, message, status } });
