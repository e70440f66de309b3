// Expired rows of the shared rate-limit tables are deleted by the traffic that writes them, at most
// once per interval and process: no timer, and a failed sweep never fails or slows a request (the
// next one retries; an expired row left behind is ignored by the queries anyway).
export const throttledSweep = (sweep: () => Promise<unknown>, everyMs: number, now: () => number = Date.now) => {
  let last = -Infinity;
  return () => {
    if (now() - last < everyMs) return;
    last = now();
    sweep().catch(() => undefined);
  };
};
