import type { Caller } from '../auth/authenticate.ts';
import type { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { CallEndpoint, CallOutcome, RequestHeaders } from '../providers/types.ts';
import type { SpendLogRecord } from './spend-log.ts';

/**
 * Everything one model call produced, once it is over (success, failure,
 * or a stream cut short): the single input of every telemetry sink (spend
 * logs, Langfuse callbacks, metrics, alerts). Built off the hot path, in
 * `waitUntil`.
 */
export interface CallEvent {
  record: SpendLogRecord;
  endpoint: CallEndpoint;
  caller: Caller;
  deployment: DeploymentRef;
  /** The client's request body (messages, prompt or input, parameters, metadata). */
  body: Record<string, unknown>;
  stream: boolean;
  outcome?: CallOutcome;
  error?: GatewayError;
  /** Request headers the sinks may read (`langfuse_*`, `x-litellm-*`); never authorization. */
  headers: RequestHeaders;
  startedAt: number;
  finishedAt: number;
  /** Time to the response headers, and the part of it that was Tollgate's own work (ms). */
  overheadMs?: number;
}
