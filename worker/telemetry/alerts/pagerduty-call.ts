import type { CallEvent } from '../call-event.ts';
import { notePagerDuty } from '../metrics/buffer.ts';
import { exceptionClass, ROUTES } from '../metrics/labels.ts';
import type { PagerDutyEventDetail, PagerDutySettings } from './pagerduty.ts';

/**
 * One finished call, as PagerDuty counts it: a failure (LiteLLM's
 * async_log_failure_event counts every failed LLM call), and, whatever its
 * outcome, a hang when it took longer than hanging_threshold_seconds to answer
 * (LiteLLM checks that the call is still open then; a call seen at its end is
 * counted at its end). A stream has answered at its first chunk, as LiteLLM
 * marks a streamed call done once its response object exists: a long stream
 * that started quickly is no hang. Buffered per isolate, no I/O.
 */
export function notePagerDutyCall(event: CallEvent, settings: PagerDutySettings, totalMs: number): void {
  const error = event.error;
  // Set by streams only (chat, A2A): a non-streamed call has answered at its end.
  const firstChunkAt = event.outcome?.firstChunkAt;
  const answeredMs = firstChunkAt ? Math.max(0, firstChunkAt - event.startedAt) : totalMs;
  const hanging = event.endpoint !== 'realtime' && answeredMs > settings.hangingMs;
  if (!error && !hanging) return;
  const c = event.caller;
  const p = c.kind === 'key' ? c.policy : undefined;
  const who = {
    user_api_key_hash: p?.token ?? c.token,
    user_api_key_alias: p?.keyAlias ?? null,
    user_api_key_team_id: p?.team?.id ?? null,
    user_api_key_team_alias: p?.team?.alias ?? null,
    user_api_key_user_id: p?.userId ?? null,
    user_api_key_org_id: p?.organizationId ?? null,
    // The request's end user (a JWT's end_user_id_jwt_field, the body's `user`, a customer header), as the spend row names it.
    user_api_key_end_user_id: event.record.end_user ?? null,
    user_api_key_request_route: ROUTES[event.endpoint] ?? null,
  };
  if (error) {
    const failed: PagerDutyEventDetail = {
      failure_event_type: 'failed_response',
      error_class: exceptionClass(error, event.deployment.provider),
      error_code: String(error.status),
      error_llm_provider: event.deployment.provider ?? null,
      ...who,
    };
    notePagerDuty(failed, event.finishedAt);
  }
  if (hanging) {
    // LiteLLM's hanging event names no error: "HangingRequest" in each field.
    notePagerDuty({ failure_event_type: 'hanging_response', error_class: 'HangingRequest', error_code: 'HangingRequest', error_llm_provider: 'HangingRequest', ...who }, event.finishedAt);
  }
}
