import { ForgeApiError, toForgeApiError } from "./forge-api-error";

interface OctokitFailure {
  status?: unknown;
  message?: unknown;
  response?: { url?: string; headers?: Record<string, string | number | undefined>; data?: unknown };
}

/**
 * An Octokit failure as a ForgeApiError. Octokit reports a request that got no answer (fetch failed,
 * aborted) as status 500 without a `response`; that becomes `status` undefined.
 */
export function fromOctokitError(error: unknown, request: { method?: string; url?: string }): ForgeApiError {
  if (error instanceof ForgeApiError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as OctokitFailure;
  const method = request.method ?? "GET";
  const url = e.response?.url ?? request.url ?? "";
  if (typeof e.status !== "number") return toForgeApiError(error, { forge: "github", method, url });
  if (!e.response) return toForgeApiError(error, { forge: "github", method, url, transient: true });
  const forgeMessage = String(e.message ?? "");
  return ForgeApiError.fromAnswer(
    `[forge] github ${method} ${url} answered ${e.status}: ${forgeMessage.slice(0, 300)}`,
    {
      forge: "github",
      method,
      url,
      status: e.status,
      headers: e.response.headers,
      forgeMessage,
      cause: error,
    },
  );
}
