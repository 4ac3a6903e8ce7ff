import { describe, expect, it } from "vitest";
import { classifyApiErrorText } from "./classify-api-error-text";
import { modelFromArgv } from "./model-from-argv";

describe("modelFromArgv", () => {
  it("reads -m, --model, --model=, -mX and codex's -c model=, the last one winning", () => {
    expect(modelFromArgv(["codex", "exec", "-m", "gpt-5.5"])).toBe("gpt-5.5");
    expect(modelFromArgv(["gemini", "--model", "gemini-2.5-pro"])).toBe("gemini-2.5-pro");
    expect(modelFromArgv(["x", "--model=o3"])).toBe("o3");
    expect(modelFromArgv(["x", "-mo4"])).toBe("o4");
    expect(modelFromArgv(["codex", "-c", 'model="gpt-5.5"', "-c", "model_provider=mock"])).toBe("gpt-5.5");
    expect(modelFromArgv(["codex", "-m", "a", "-c", "model=b"])).toBe("b");
    expect(modelFromArgv(["codex", "exec", "--json"])).toBeUndefined();
    expect(modelFromArgv(["codex", "-c", "model_providers.mock.name=x"])).toBeUndefined();
  });
});

describe("classifyApiErrorText", () => {
  it("reads codex's status texts, OpenAI bodies and Retry-After hints", () => {
    expect(classifyApiErrorText("exceeded retry limit, last status: 429 Too Many Requests")).toEqual({
      status: 429,
      transient: true,
    });
    expect(classifyApiErrorText("unexpected status 502 Bad Gateway: x, url: http://h/v1")).toEqual({
      status: 502,
      transient: true,
    });
    expect(
      classifyApiErrorText('{"error":{"type":"rate_limit_exceeded","message":"Please try again in 1.5s"}}'),
    ).toEqual({ status: 429, transient: true, retryAfterMs: 1500 });
    expect(classifyApiErrorText("unexpected status 401 Unauthorized")).toEqual({ status: 401, transient: false });
    expect(classifyApiErrorText("Model overloaded")).toEqual({ transient: true });
  });
});
