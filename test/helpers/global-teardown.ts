export default async function globalTeardown(): Promise<void> {
  const redis = (globalThis as { __reglamentRedis?: { stop(): Promise<void> } }).__reglamentRedis;
  await redis?.stop();
}
