/**
 * Waits at most `ms` for `promise` to settle: true if it did (fulfilled or rejected; the
 * outcome stays the caller's to read), false if the time ran out first. The timer is cleared
 * either way, so it never holds the process open after the answer.
 *
 * Several calls here talk to a Redis that may be gone (BullMQ's close() and ioredis' connect()
 * wait for it forever): this is how each of them gives up waiting.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
