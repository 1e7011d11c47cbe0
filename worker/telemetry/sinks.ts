/**
 * The telemetry sinks beyond spend logs, each registered with addCallSink()
 * when its module loads. Imported once by the hot path.
 */
import './langfuse/sink.ts';
import './metrics/sink.ts';
import './otel/sink.ts';
import './standard/sink.ts';
