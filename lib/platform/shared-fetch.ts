/**
 * Secrets are read through Powertools' cache, which keeps a value once it has arrived but lets
 * every concurrent cold read call Secrets Manager itself (a cold batch of 8 deliveries made 4
 * GetSecretValue calls for one key), and keeps no memory of a secret that does not exist (a
 * missing routing key was fetched again for every record). This sits in front of it: one fetch
 * in flight per name, shared by every caller, and a missing name remembered briefly.
 */

export interface SharedFetchOptions {
  /** A missing name is not fetched again for this long (default 30 s): creating it takes effect within it. */
  missingForMs?: number;
  /** Whether a failure means "this name does not exist" (remembered) rather than a passing fault (not remembered). */
  isMissing: (error: unknown) => boolean;
  now?: () => number;
}

export const DEFAULT_MISSING_FOR_MS = 30_000;

export function sharedFetch<T>(fetch: (name: string) => Promise<T>, options: SharedFetchOptions): (name: string) => Promise<T> {
  const { missingForMs = DEFAULT_MISSING_FOR_MS, isMissing, now = Date.now } = options;
  const inFlight = new Map<string, Promise<T>>();
  const missing = new Map<string, { error: unknown; until: number }>();
  return (name) => {
    const known = missing.get(name);
    if (known && now() < known.until) return Promise.reject(known.error);
    missing.delete(name);
    const pending = inFlight.get(name);
    if (pending) return pending;
    const started = fetch(name).then(
      (value) => {
        inFlight.delete(name);
        return value;
      },
      (error: unknown) => {
        inFlight.delete(name);
        if (isMissing(error)) missing.set(name, { error, until: now() + missingForMs });
        throw error;
      },
    );
    inFlight.set(name, started);
    return started;
  };
}
