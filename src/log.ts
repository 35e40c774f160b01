import pino, { type Logger } from 'pino';

export type { Logger };

/** The root logger; everything else uses `.child({ installation, robot, job })`. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { app: 'reglament' },
    // Tokens never reach the logs, whatever a caller passes in.
    redact: ['*.accessToken', '*.refreshToken', '*.access_token', '*.refresh_token', '*.applicationToken', 'auth'],
  });
}
