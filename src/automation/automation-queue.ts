import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import { installationKey } from '../infra/keys';
import { withinDeadline } from '../infra/redis-health';
import { bullPrefix, type QueueSettings } from '../pipeline/queues';
import type { AutomationCall } from './automation-call';

export const AUTOMATION_QUEUE = 'automation';

/**
 * A call's identity, hashed (a Bitrix24 event token is a credential of sorts and never goes into a
 * key or a job id as is). The same call delivered twice is one job while BullMQ keeps it, and finds
 * its stored result after that. Bitrix24: the call's event_token. amoCRM Digital Pipeline: the
 * account, the lead, the stage it entered, the event's time and the action (the event has no token).
 */
export function callFingerprint(call: Pick<AutomationCall, 'installationId' | 'reply' | 'target' | 'action'>): string {
  const reply = call.reply;
  const identity =
    reply.kind === 'bitrix24'
      ? `${call.installationId}\n${reply.eventToken}`
      : ['amocrm-dp', call.installationId, call.target.id, reply.pipelineId, reply.statusId, reply.eventTime, call.action].join('\n');
  return createHash('sha256').update(identity).digest('hex').slice(0, 40);
}

/** The producer side used by the HTTP edge: fails fast when Redis is away, so the CRM sees an error. */
export class AutomationQueue {
  readonly queue: Queue<AutomationCall>;

  constructor(private readonly settings: QueueSettings) {
    this.queue = new Queue<AutomationCall>(AUTOMATION_QUEUE, { connection: settings.connection, prefix: bullPrefix(settings.prefix) });
  }

  async enqueue(call: AutomationCall): Promise<void> {
    installationKey(this.settings.prefix, call.installationId, 'automation'); // refuses an invalid id before anything is queued
    const added = this.queue.add(call.action, call, {
      jobId: `automation|${callFingerprint(call)}`,
      attempts: this.settings.attempts,
      backoff: { type: 'exponential', delay: this.settings.backoffMs },
      // The job holds the reply token: gone an hour after it is answered; failed ones kept a week for inspection.
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    await (this.settings.deadlineMs ? withinDeadline(added, this.settings.deadlineMs, 'enqueue') : added);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
