import { describe, expect, it } from "vitest";
import { giteaGitHosts, githubGitHosts } from "./forge-git-hosts";

describe("forge git hosts", () => {
  it("maps GitHub API URLs to the host git is served from", () => {
    expect(githubGitHosts("https://api.github.com")).toEqual(["https://github.com"]);
    expect(githubGitHosts("https://api.octo.ghe.com")).toEqual(["https://octo.ghe.com"]);
    expect(githubGitHosts("https://ghes.example.com/api/v3")).toEqual(["https://ghes.example.com"]);
    expect(githubGitHosts("http://127.0.0.1:8080/api/v3")).toEqual(["http://127.0.0.1:8080"]);
  });

  it("uses the web origin of GITEA_URL, port included", () => {
    expect(giteaGitHosts("https://Gitea.Example.com:3000/api/v1")).toEqual(["https://gitea.example.com:3000"]);
    expect(giteaGitHosts("https://git.example.com:443/")).toEqual(["https://git.example.com"]);
  });
});
