/**
 * The shutdown of the telemetry this process started, kept apart from the SDK
 * so that importing the logger or the metrics never loads OpenTelemetry's SDK.
 */
let running: (() => Promise<void>) | undefined;

export function onTelemetryShutdown(shutdown: () => Promise<void>): void {
  running = shutdown;
}

/**
 * Exports the spans still buffered and stops tracing; does nothing when no
 * telemetry was started. Called last on shutdown, so the spans of the
 * shutdown itself (closing pools, disconnecting from Kafka) are exported too.
 */
export async function shutdownTelemetry(): Promise<void> {
  const shutdown = running;
  running = undefined;
  await shutdown?.();
}
