import { describe, expect, it } from "vitest";
import { parseConfig } from "./config";
import { gitOrigin, isGitHostOf, normaliseGitHost } from "./git-host";

describe("gitOrigin", () => {
  it("is scheme://host[:port] of a remote URL, lower-cased, default ports dropped", () => {
    expect(gitOrigin("https://GitHub.com/acme/app.git")).toBe("https://github.com");
    expect(gitOrigin("https://x-access-token:t@github.com:443/acme/app.git")).toBe("https://github.com");
    expect(gitOrigin("http://127.0.0.1:3000/acme/app.git")).toBe("http://127.0.0.1:3000");
    expect(gitOrigin("ssh://git@host:2222/a.git")).toBe("ssh://host:2222");
    expect(gitOrigin("ssh://git@host:22/a.git")).toBe("ssh://host");
    expect(gitOrigin("git@github.com:acme/app.git")).toBe("ssh://github.com");
    expect(gitOrigin("/srv/git/app.git")).toBe("file://");
    expect(gitOrigin("file:///srv/git/app.git")).toBe("file://");
  });

  it("has none for transports and garbage", () => {
    for (const url of ["ext::sh -c id", "fd::3", "", "https://", "https://a b/x", "ftp://host/x"]) {
      expect(gitOrigin(url)).toBeUndefined();
    }
  });

  it("tells a host from a look-alike (another port, a subdomain, userinfo tricks)", () => {
    const hosts = ["https://github.com"];
    expect(isGitHostOf(hosts, "https://github.com/acme/app.git")).toBe(true);
    expect(isGitHostOf(hosts, "https://github.com:8443/acme/app.git")).toBe(false);
    expect(isGitHostOf(hosts, "http://github.com/acme/app.git")).toBe(false);
    expect(isGitHostOf(hosts, "https://github.com.evil.test/acme/app.git")).toBe(false);
    expect(isGitHostOf(hosts, "https://github.com@evil.test/acme/app.git")).toBe(false);
    expect(isGitHostOf(hosts, "git@github.com:acme/app.git")).toBe(false);
  });
});

describe("normaliseGitHost and git.credentialHosts", () => {
  it("takes host[:port] as https and http(s) origins as written", () => {
    expect(normaliseGitHost("git.example.com")).toBe("https://git.example.com");
    expect(normaliseGitHost("Git.Example.com:8443")).toBe("https://git.example.com:8443");
    expect(normaliseGitHost("http://10.0.0.5:3000/")).toBe("http://10.0.0.5:3000");
    for (const bad of ["https://host/path", "https://u:p@host", "ssh://host", "", "host?x=1"]) {
      expect(() => normaliseGitHost(bad)).toThrow(/Expected a git host/);
    }
  });

  it("are validated and normalised by the config", () => {
    const stages = [{ name: "s", label: "l", agent: "a", prompt: "inline:x" }];
    const base = { agents: { a: { command: ["x"] } }, stages };
    expect(parseConfig(base, {}).config.git.credentialHosts).toEqual([]);
    const ok = parseConfig({ ...base, git: { credentialHosts: ["git.example.com:8443"] } }, {});
    expect(ok.config.git.credentialHosts).toEqual(["https://git.example.com:8443"]);
    expect(() => parseConfig({ ...base, git: { credentialHosts: ["https://host/x"] } }, {})).toThrow(
      /credentialHosts.*Expected a git host/s,
    );
  });
});
