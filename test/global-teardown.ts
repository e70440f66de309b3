// Stops only what the global setup started; services it reused keep running.
export default async function globalTeardown(): Promise<void> {
  await globalThis.__STACK__?.stop();
}
