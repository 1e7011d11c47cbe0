/**
 * The telemetry sinks beyond spend logs, each registered with addCallSink()
 * when its module loads. Imported once by the hot path.
 */
export {};
