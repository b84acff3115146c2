/**
 * A module imported when it is first asked for, not at a cold start. The bundler keeps such a
 * module's top-level code in a function that runs on the first import, so an invocation that
 * never needs it never pays for evaluating it (issue 15: cold load).
 */
export function onFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    // A failed import is tried again on the next call rather than remembered.
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
