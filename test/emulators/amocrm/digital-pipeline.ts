/**
 * The Digital Pipeline of the emulated amoCRM account, as far as a widget's DP action goes
 * (developers.kommo.com/docs/widgets-dp; research amocrm.md §5.2).
 *
 * An administrator places the widget's action on a stage and saves its settings (the manifest's
 * `dp.settings` fields); when a lead enters that stage (a user's move or an API PATCH), amoCRM
 * POSTs JSON to the manifest's `dp.webhook_url`:
 * `{event: {type: 14, type_code: "lead_status_changed", data: {id, element_type: 2, status_id,
 * pipeline_id, direction_of_movement}, time}, action: {settings: {widget: {settings}}}, subdomain,
 * account_id}`. With `action_multiple: false` (our manifest) the event is type 14; 15
 * (`lead_appeared_in_status`) belongs to multi-stage actions.
 *
 * Sent once, never retried: the widget page asks only for "a prompt response", and the DP webhook
 * page (developers.kommo.com/docs/webhooks-dp) says that in the Digital Pipeline "a webhook is sent
 * only once for each event that occurs, with no retry attempts" (research amocrm.md §2.6). Nothing
 * signs the request (no documented signature).
 *
 * Simplified: only stage entries trigger the action (not a lead created in the stage, nor mail,
 * calls, chats or site visits); no delayed or conditional execution; the 2 s answer timeout is the
 * account webhooks' figure, assumed here.
 */
export interface DpWidgetAction {
  pipelineId: number;
  statusId: number;
  /** The dp.settings fields as the admin saved them (strings, as amoCRM's settings form keeps them). */
  settings: Record<string, string>;
  webhookUrl: string;
}

export interface DpDelivery {
  url: string;
  /** The JSON that was POSTed. */
  body: string;
  /** HTTP status of the answer; 0 when there was none. */
  status: number;
  at: number;
  error?: string;
}

export class DigitalPipeline {
  readonly actions: DpWidgetAction[] = [];
  readonly deliveries: DpDelivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly account: { accountId: number; subdomain: string; nowSec: () => number; timeoutMs: number }) {}

  /** An administrator places the widget's action on a stage (replacing the one there). */
  place(action: DpWidgetAction): void {
    this.remove(action.pipelineId, action.statusId);
    this.actions.push({ ...action, settings: { ...action.settings } });
  }

  remove(pipelineId: number, statusId: number): void {
    const at = this.actions.findIndex((a) => a.pipelineId === pipelineId && a.statusId === statusId);
    if (at >= 0) this.actions.splice(at, 1);
  }

  /** A lead entered a stage: the action placed there (if any) is triggered. */
  leadEntered(lead: { id: number; pipelineId: number; statusId: number }): void {
    for (const action of this.actions.filter((a) => a.pipelineId === lead.pipelineId && a.statusId === lead.statusId)) {
      const body = JSON.stringify({
        event: {
          type: 14,
          type_code: 'lead_status_changed',
          data: { id: lead.id, element_type: 2, status_id: lead.statusId, pipeline_id: lead.pipelineId, direction_of_movement: 'went_to_trigger' },
          time: this.account.nowSec(),
        },
        action: { settings: { widget: { settings: { ...action.settings } } } },
        subdomain: this.account.subdomain,
        account_id: this.account.accountId,
      });
      this.send(action.webhookUrl, body);
    }
  }

  /** Resolves when every DP POST has been answered (or timed out). */
  async settle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private send(url: string, body: string): void {
    const at = Date.now();
    const post = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(this.account.timeoutMs) })
      .then(async (res) => {
        await res.text();
        this.deliveries.push({ url, body, status: res.status, at });
      })
      .catch((err: Error) => {
        this.deliveries.push({ url, body, status: 0, at, error: err.message });
      })
      .finally(() => this.inFlight.delete(post));
    this.inFlight.add(post);
  }
}
