/** Polls `condition` every 20 ms until it holds; fails with `message` after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs: number, message: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${message} (after ${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
