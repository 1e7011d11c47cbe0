/**
 * Anthropic's `stop_reason` as OpenAI's `finish_reason`. `pause_turn` (a
 * server tool paused a long turn) ends the answer as far as the client can
 * tell; a full context window is a length stop.
 */
export function mapStopReason(stopReason: string | null | undefined): string | null {
  switch (stopReason) {
    case undefined:
    case null:
      return null;
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}
