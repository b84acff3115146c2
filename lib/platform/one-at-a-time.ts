/**
 * Runs tasks that share a key one after another, in the order they were started, while tasks of
 * different keys run side by side. The router uses it per dedup key within a batch: two messages
 * of one problem racing each other would make one of their conditional writes fail (a failed
 * write is charged like a successful one) and redo its work, for nothing.
 */
export function oneAtATimePerKey(): <T>(key: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return (key, task) => {
    // A tail never rejects: a failed task does not stop the next one of its key.
    const run = (tails.get(key) ?? Promise.resolve()).then(task);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}
