import type { Response } from 'express';
import type { Logger } from '../src/log';
import { edgeEventsAccepted, edgeEventsRefused } from '../src/observability/metrics';
import { RateLimitedLog } from '../src/observability/rate-limited-log';

export type EdgeCrm = 'bitrix24' | 'amocrm';

/** How the edge answers a webhook it accepted or refused: the answer, the metric, one log line per reason and minute. */
export interface EdgeOutcomes {
  accepted(crm: EdgeCrm, events: number): void;
  refuse(res: Response, crm: EdgeCrm, status: number, error: string, details?: { reason?: string; installation?: string }): void;
}

export function edgeOutcomes(log: Logger): EdgeOutcomes {
  const refusals = new RateLimitedLog(log);
  // Bound once: on the hot path a labelled inc() would hash its label object on every request.
  const acceptedBy = { bitrix24: edgeEventsAccepted.labels('bitrix24'), amocrm: edgeEventsAccepted.labels('amocrm') };
  return {
    accepted(crm, events) {
      if (events > 0) acceptedBy[crm].inc(events);
    },
    refuse(res, crm, status, error, details = {}) {
      edgeEventsRefused.inc({ crm, reason: error });
      refusals.warn(`${crm}|${error}`, { crm, status, error, ...details }, 'webhook refused');
      res.status(status).json(details.reason !== undefined ? { error, reason: details.reason } : { error });
    },
  };
}
