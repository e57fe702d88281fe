import type { Logger } from '../util/log.js';

/**
 * SIGTERM/SIGINT call `stop` once (a graceful stop); a second signal exits at once, for when a graceful stop
 * hangs. Returns a function that removes the handlers.
 */
export function onSignals(logger: Logger, stop: () => Promise<void>, message = 'shutting down'): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(130);
    }
    stopping = true;
    logger.info(message, { signal });
    stop().catch((e: unknown) => logger.error('error while stopping', { error: e }));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Resolves once a signal has stopped what `close` stops (errors are logged, not thrown). */
export function untilSignal(logger: Logger, close: () => Promise<void>, message?: string): Promise<void> {
  return new Promise((resolve) => {
    const off = onSignals(
      logger,
      () =>
        close()
          .catch((e: unknown) => logger.error('error during shutdown', { error: e }))
          .finally(() => {
            off();
            resolve();
          }),
      message,
    );
  });
}
