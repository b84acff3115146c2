/**
 * A module imported when it is first asked for, not at a cold start. The bundler puts such a
 * module in a chunk of its own (infra/bundling.ts: splitting), read and run on the first import,
 * so an invocation that never needs it never pays for parsing or evaluating it (issue 15).
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
