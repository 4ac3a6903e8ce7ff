import { describe, expect, it } from "vitest";
import { redactUrl } from "./redact";

describe("redactUrl", () => {
  it("hides the password of redis and git URLs, keeping the user and the rest", () => {
    expect(redactUrl("redis://default:s3cret@redis:6379/2")).toBe("redis://default:[REDACTED]@redis:6379/2");
    expect(redactUrl("rediss://:s3cret@host:6380")).toBe("rediss://:[REDACTED]@host:6380");
    expect(redactUrl("https://x-access-token:ghs_abc@github.com/acme/app.git")).toBe(
      "https://x-access-token:[REDACTED]@github.com/acme/app.git",
    );
  });

  it("leaves URLs without a password alone", () => {
    expect(redactUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
    expect(redactUrl("https://github.com/acme/app.git")).toBe("https://github.com/acme/app.git");
    expect(redactUrl("git@github.com:acme/app.git")).toBe("git@github.com:acme/app.git");
  });
});
