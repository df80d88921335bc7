// Optional webhook for events (--webhook URL or rollout.webhookUrl): Slack-compatible JSON
// `{"text": "..."}` POSTed for the events an on-call channel cares about (plan, each step
// verified, decisions other than "extend", rollbacks, warnings, the end). Posts are sent in order,
// each bounded by a timeout; a failing webhook is reported once on stderr and never stops or
// slows an operation (flush() waits at most a few seconds at the end).

import type { EngineEvent } from "../../core/events.js";
import { formatEvent } from "../../core/events.js";

export interface WebhookSink {
  (event: EngineEvent): void;
  flush(timeoutMs?: number): Promise<void>;
}

export function webhookText(event: EngineEvent, stack: string): string | null {
  const prefix = `[bluegreen ${stack}]`;
  const line = formatEvent(event).replace(/^\S+ /, "");
  switch (event.type) {
    case "plan":
      return `${prefix} ${event.operation}: ${event.lines[0] ?? "plan"}`;
    case "weights-verified":
      return event.ok ? `${prefix} ${line}` : `${prefix} :warning: ${line}`;
    case "decision":
      return event.decision === "extend" ? null : `${prefix} ${event.decision === "rollback" || event.decision === "abort" ? ":rotating_light: " : ""}${line}`;
    case "rollback-started":
      return `${prefix} :rotating_light: ${line}`;
    case "rollback-complete":
      return `${prefix} ${event.ok ? ":large_blue_circle:" : ":rotating_light:"} ${line}`;
    case "warning":
      return `${prefix} :warning: ${line}`;
    case "lock":
      return event.action === "broken" || event.action === "lost" ? `${prefix} :warning: ${line}` : null;
    case "done":
      return `${prefix} ${event.outcome === "succeeded" ? ":white_check_mark:" : ":x:"} ${line}`;
    default:
      return null;
  }
}

export function createWebhookSink(url: string, stack: string, onError: (message: string) => void, timeoutMs = 5_000): WebhookSink {
  let chain: Promise<void> = Promise.resolve();
  let failed = false;
  const post = async (text: string) => {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      await response.arrayBuffer().catch(() => undefined);
    } catch (error) {
      if (!failed) {
        failed = true;
        // The URL may carry a token (Slack webhooks do): name only its host.
        let host = "the webhook";
        try {
          host = new URL(url).host;
        } catch {
          // keep the generic name
        }
        onError(`webhook ${host} failed (${(error as Error).message}); events are still printed and reported`);
      }
    }
  };
  const sink = ((event: EngineEvent) => {
    const text = webhookText(event, stack);
    if (text === null) return;
    chain = chain.then(() => post(text));
  }) as WebhookSink;
  sink.flush = async (flushTimeoutMs = 5_000) => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([chain, new Promise<void>((resolve) => (timer = setTimeout(resolve, flushTimeoutMs)))]);
    if (timer) clearTimeout(timer);
  };
  return sink;
}

/**
 * A webhook whose URL is known only later (rollback reads rollout.webhookUrl from the config after
 * its first AWS call): events are buffered until `attach`, then sent in order; without a URL the
 * buffer is dropped. Ticks are never buffered.
 */
export class DeferredWebhook {
  private sink: WebhookSink | undefined;
  private buffering = true;
  private readonly pending: EngineEvent[] = [];

  constructor(
    private readonly stack: string,
    private readonly warn: (message: string) => void,
  ) {}

  readonly send = (event: EngineEvent): void => {
    if (this.sink) this.sink(event);
    else if (this.buffering && event.type !== "tick") this.pending.push(event);
  };

  attach(url: string | undefined): void {
    if (url) {
      this.sink = createWebhookSink(url, this.stack, this.warn);
      for (const event of this.pending) this.sink(event);
    }
    this.buffering = false;
    this.pending.length = 0;
  }

  async flush(): Promise<void> {
    await this.sink?.flush();
  }
}
