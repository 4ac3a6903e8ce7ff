// Child entry for figure 6: forgehand's webhook app served by `serveNode` (the server `forgehand
// start` runs, with its header/request timeouts) against a private redis-server. Samples its own
// RSS every 5 ms; a stdin line {"cmd":"mark"} resets the peak and answers {"rss": N}, {"cmd":"peak"}
// answers {"peak": N, "rss": N} (bytes). Prints {"port": N} once listening.

import { createInterface } from "node:readline";
import { silentLogger } from "@forgehand/core";
import { createRedis } from "@forgehand/queue";
import { createApp, serveNode } from "@forgehand/webhook";
import { onParentGone, report } from "../harness/child";
import { benchConfig } from "./bench-config";
import { untilReady } from "./until-ready";

const [redisUrl = "", secret = "", prefix = "forgehand-bench"] = process.argv.slice(2);

let peak = 0;
const sample = () => {
  const rss = process.memoryUsage.rss();
  if (rss > peak) peak = rss;
  return rss;
};
setInterval(sample, 5).unref();

try {
  const redis = createRedis(redisUrl, "webhook");
  await untilReady(redis);
  const app = createApp({
    config: benchConfig(),
    redis,
    prefix,
    secrets: { github: secret },
    botLogins: { github: "forgehand-bench[bot]" },
    logger: silentLogger,
  });
  const server = await serveNode(app, 0, "127.0.0.1");
  createInterface({ input: process.stdin }).on("line", (line) => {
    const { cmd } = JSON.parse(line) as { cmd: string };
    if (cmd === "mark") {
      // Settle what earlier phases left behind, so the baseline is the idle server.
      globalThis.gc?.();
      peak = 0;
      report({ rss: sample() });
    } else if (cmd === "peak") report({ peak: Math.max(peak, sample()), rss: sample() });
  });
  report({ port: server.port });
  process.on("SIGTERM", () => process.exit(0));
  onParentGone(() => void server.close());
} catch (error) {
  report({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(0);
}
