import type { CheckResult } from "./doctor-checks";
import { listenAddress } from "./listen-address";

/**
 * The webhook URL `forgehand start` would print (HOST/PORT), asked for /healthz on this machine:
 * forgehand answering is ✓; nothing listening is informational (the port is free for `start`);
 * something else answering means `start` would fail to bind or a forge would reach the wrong program.
 */
export async function checkWebhookUrl(host: string, port: number, timeoutMs = 3_000): Promise<CheckResult> {
  const { url } = listenAddress(host, port);
  const name = "webhook url";
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    if (response.ok && body.replace(/\s/g, "").includes(`"ok":true`))
      return {
        name,
        status: "ok",
        detail: `${url}/webhooks/github|gitea answers (forgehand /healthz ${response.status})`,
      };
    return {
      name,
      status: "fail",
      detail: `${url} answers, but not as forgehand (/healthz ${response.status}): another program holds port ${port}; set PORT or stop it`,
    };
  } catch (error) {
    const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === "ECONNREFUSED")
      return {
        name,
        status: "skip",
        detail: `${url}/webhooks/… is not up yet (nothing listens on ${port}; \`forgehand start\` would bind it)`,
      };
    return { name, status: "fail", detail: `${url} is not reachable locally (${code ?? (error as Error).message})` };
  }
}
