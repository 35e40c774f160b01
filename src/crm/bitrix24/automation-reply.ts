import type { Bitrix24RestClient } from './rest-client';

/**
 * Answers a Bitrix24 robot that waits for the app (`USE_SUBSCRIPTION: Y`): `bizproc.event.send`
 * with the call's EVENT_TOKEN, the RETURN_VALUES declared as the robot's RETURN_PROPERTIES and a
 * line for the workflow log (restdocs bizproc-robot/bizproc-event-send.md). A used or expired
 * token is refused with ACCESS_DENIED, which retrying does not fix.
 */
export async function sendRobotAnswer(rest: Pick<Bitrix24RestClient, 'callDirect'>, eventToken: string, values: Record<string, string>, log: string): Promise<void> {
  // Sent alone, never merged into a shared batch: the token and the values must not travel as a batch command's query string.
  await rest.callDirect('bizproc.event.send', { EVENT_TOKEN: eventToken, RETURN_VALUES: values, LOG_MESSAGE: log.slice(0, 1000) });
}
