/**
 * Waits for a promise at most `ms`: for shutdown steps that need the broker or a child process
 * and must not hang a stopping program when the other side is gone.
 * @returns true when `p` settled in time (fulfilled or rejected: the caller handles the outcome
 *   on `p` itself), false when the time ran out; the timer is cleared either way
 */
export async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([p.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
