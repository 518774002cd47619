/** Backoff between reconnect attempts: 0.25 s doubling to 10 s, with ±25 % jitter so a restarted server is not stormed by every tab at once. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(10_000, 250 * 2 ** attempt);
  return Math.round(base * (0.75 + random() * 0.5));
}
