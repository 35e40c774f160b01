/**
 * Event bindings (`event.bind`/`unbind`/`get`) and the queue server: asynchronous, in-order delivery of
 * form-encoded POSTs, no retries ("the Bitrix24 queue server will log the failure but will not resend the
 * event" — restdocs `api-reference/events/index.md`).
 */
import { toPhpForm } from '../form-encode';
import type { DeliveryRecord, EventBinding } from './types';
import { RestError } from './util';

/** Events the emulator knows (binding anything else → ERROR_EVENT_NOT_FOUND). */
export const KNOWN_EVENTS = new Set([
  'ONAPPINSTALL',
  'ONAPPUNINSTALL',
  'ONAPPUPDATE',
  'ONAPPTEST',
  'ONCRMDEALADD',
  'ONCRMDEALUPDATE',
  'ONCRMDEALDELETE',
  'ONCRMDEALMOVETOCATEGORY',
  'ONCRMLEADADD',
  'ONCRMLEADUPDATE',
  'ONCRMLEADDELETE',
  'ONCRMCONTACTADD',
  'ONCRMCONTACTUPDATE',
  'ONCRMCONTACTDELETE',
  'ONCRMTIMELINECOMMENTADD',
  'ONCRMDEALUSERFIELDADD',
  'ONCRMDEALUSERFIELDUPDATE',
  'ONCRMDEALUSERFIELDDELETE',
  'ONCRMDEALUSERFIELDSETENUMVALUES',
  'ONCRMLEADUSERFIELDADD',
  'ONCRMLEADUSERFIELDUPDATE',
  'ONCRMLEADUSERFIELDDELETE',
  'ONCRMLEADUSERFIELDSETENUMVALUES',
  'ONUSERADD',
]);

interface Job {
  event: string;
  handler: string;
  payload: Record<string, unknown>;
}

export class EventBus {
  readonly bindings: EventBinding[] = [];
  readonly deliveries: DeliveryRecord[] = [];
  private readonly queue: Job[] = [];
  private active: Promise<void> | null = null;
  private seq = 201;

  constructor(
    private readonly now: () => number,
    private readonly delayMs: number,
    private readonly timeoutMs: number,
  ) {}

  bind(event: string, handler: string, authType: number): EventBinding {
    const name = event.toUpperCase();
    if (!KNOWN_EVENTS.has(name)) throw new RestError(400, 'ERROR_EVENT_NOT_FOUND', 'Event not found');
    if (!handler) throw new RestError(400, 'ERROR_HANDLER_NOT_FOUND', 'Handler not found');
    if (this.bindings.some((b) => b.event === name && b.handler === handler && b.authType === authType)) {
      throw new RestError(400, 'ERROR_HANDLER_ALREADY_EXIST', 'Handler already exists!');
    }
    const binding: EventBinding = { id: this.seq++, event: name, handler, authType };
    this.bindings.push(binding);
    return binding;
  }

  /** `authType === undefined` removes the handler for every auth_type. */
  unbind(event: string, handler: string, authType: number | undefined): number {
    const name = event.toUpperCase();
    let count = 0;
    for (let index = this.bindings.length - 1; index >= 0; index--) {
      const b = this.bindings[index];
      if (b && b.event === name && b.handler === handler && (authType === undefined || b.authType === authType)) {
        this.bindings.splice(index, 1);
        count++;
      }
    }
    return count;
  }

  bound(event: string): EventBinding[] {
    return this.bindings.filter((b) => b.event === event.toUpperCase());
  }

  clear(): void {
    this.bindings.length = 0;
  }

  /** Queues a delivery; the queue server starts on a later tick. */
  enqueue(event: string, handler: string, payload: Record<string, unknown>): void {
    this.queue.push({ event, handler, payload });
    this.pump();
  }

  /** Resolves when the queue is empty and nothing is in flight. */
  async settle(): Promise<void> {
    while (this.active || this.queue.length > 0) {
      if (!this.active) this.pump();
      await this.active;
    }
  }

  /** POSTs one form-encoded payload now (used for install/uninstall calls) and logs the outcome. */
  async post(event: string, handler: string, payload: Record<string, unknown>): Promise<DeliveryRecord & { responseBody: string }> {
    const body = toPhpForm(payload);
    const record: DeliveryRecord = { event, handler, status: 0, body, payload, at: this.now() };
    let responseBody = '';
    try {
      const response = await fetch(handler, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Bitrix24 Webhook Engine' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      record.status = response.status;
      responseBody = await response.text();
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
    }
    this.deliveries.push(record);
    return { ...record, responseBody };
  }

  private pump(): void {
    if (this.active) return;
    this.active = (async () => {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        await this.post(job.event, job.handler, job.payload); // failures are logged and dropped: no retries
      }
    })().finally(() => {
      this.active = null;
    });
  }
}
