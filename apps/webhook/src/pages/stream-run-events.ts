import { isTerminal, type RunRecord } from "@forgehand/core";
import type { RunStore } from "@forgehand/queue";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { renderLogEntry } from "./render-log-entry";
import { headerFields } from "./run-detail-page";

/**
 * The run page's live feed: `action` events carry rendered (escaped, redacted) list items, `state` the header's
 * fields whenever they change, `end` once the run is terminal and its last lines are out. One Redis connection
 * per viewer (`openTail`), closed when the viewer leaves or the run ends.
 */
export function streamRunEvents(
  c: Context,
  o: { store: RunStore; id: string; after: string; redact: (text: string) => string; tailBlockMs: number },
): Response {
  return streamSSE(c, async (stream) => {
    let after = o.after;
    let shown = "";
    const tail = o.store.openTail(o.id);
    stream.onAbort(() => tail.close());
    const sendState = async (run: RunRecord | null) => {
      if (!run) return;
      const fields = headerFields(run);
      fields.reason = o.redact(fields.reason ?? "");
      const text = JSON.stringify(fields);
      if (text === shown) return;
      shown = text;
      await stream.writeSSE({ event: "state", data: text });
    };
    const send = async (entries: Awaited<ReturnType<RunStore["readLog"]>>) => {
      for (const e of entries) {
        const items = renderLogEntry(e, o.redact);
        if (items.length) await stream.writeSSE({ id: e.id, event: "action", data: items.join("") });
        after = e.id;
      }
    };
    try {
      while (!stream.aborted) {
        const entries = await tail.read(after, o.tailBlockMs);
        await send(entries);
        const now = await o.store.get(o.id);
        await sendState(now);
        if (entries.length > 0 || stream.aborted) continue;
        if (!now || isTerminal(now.state)) {
          await send(await o.store.readLog(o.id, { after: after === "0" ? undefined : after, count: 10_000 }));
          await stream.writeSSE({ event: "end", data: JSON.stringify({ state: now?.state ?? "unknown" }) });
          break;
        }
      }
    } finally {
      tail.close();
    }
  });
}
