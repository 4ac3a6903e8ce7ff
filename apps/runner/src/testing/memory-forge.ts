import type { ForgeId, GitCredentials, IssueRef, Permission, RepoRef } from "@forgehand/core";
import {
  ForgeApiError,
  type ForgeApiErrorInit,
  type ForgeClient,
  type ForgeClients,
  type ForgeComment,
  type ForgeIssue,
  type ForgePullRequest,
  type ForgeReview,
  type PullRequestInfo,
  type PullRequestReviewComment,
} from "@forgehand/forge";

/** A forge answering `status`, as the real clients throw it (e.g. `forgeError(502, "bad gateway")`). */
export function forgeError(
  status: number,
  message: string,
  init: Partial<Omit<ForgeApiErrorInit, "status">> = {},
): ForgeApiError {
  return new ForgeApiError(message, { forge: "github", method: "GET", url: "", status, ...init });
}

/** One recorded call on the in-memory forge. */
export interface ForgeCall {
  method: string;
  args: unknown[];
}

/**
 * An in-memory, recording ForgeClient for runner tests: issues with labels and
 * comments, pull requests, and a log of every call. `failNext` makes the next call
 * of a method throw (e.g. a forge 502) to exercise error handling.
 */
export class MemoryForge implements ForgeClient {
  readonly calls: ForgeCall[] = [];
  readonly issues = new Map<number, ForgeIssue>();
  readonly pulls: { number: number; head: string; base: string; title: string; body: string; url: string }[] = [];
  private nextId = 1000;
  private failures = new Map<string, Error[]>();

  /** Local paths and `file://` URLs, as the test origins use; a test of the host check sets its own. */
  gitHosts: readonly string[] = ["file://"];

  constructor(readonly forge: ForgeId = "github") {}

  /** Adds (or replaces) an issue. */
  addIssue(issue: Partial<ForgeIssue> & { number: number }): ForgeIssue {
    const full: ForgeIssue = {
      title: `Issue ${issue.number}`,
      body: "",
      state: "open",
      isPr: false,
      labels: [],
      comments: [],
      ...issue,
    };
    this.issues.set(issue.number, full);
    return full;
  }

  /** Makes the next call of `method` throw `error`. */
  failNext(method: keyof ForgeClient, error: Error): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }

  labelsOf(number: number): string[] {
    return this.issue(number).labels;
  }

  commentsOf(number: number): ForgeComment[] {
    return this.issue(number).comments;
  }

  private record(method: string, ...args: unknown[]) {
    this.calls.push({ method, args });
    const queued = this.failures.get(method);
    const error = queued?.shift();
    if (error) throw error;
  }

  private issue(number: number): ForgeIssue {
    const found = this.issues.get(number);
    if (!found) throw forgeError(404, `[memory-forge] no issue #${number}`);
    return found;
  }

  /** What `getPermission` answers per login (lowercase); anyone else is `admin`. */
  readonly permissions = new Map<string, Permission>();

  async getPermission(_repo: RepoRef, login: string): Promise<Permission> {
    this.record("getPermission", login);
    return this.permissions.get(login.toLowerCase()) ?? "admin";
  }
  async createComment(ref: IssueRef, body: string): Promise<ForgeComment> {
    this.record("createComment", ref.number, body);
    const comment = { id: this.nextId++, body, author: "forgehand[bot]" };
    this.issue(ref.number).comments.push(comment);
    return comment;
  }
  async getComment(_repo: RepoRef, commentId: number): Promise<ForgeComment | null> {
    this.record("getComment", commentId);
    for (const issue of this.issues.values()) {
      const c = issue.comments.find((x) => x.id === commentId);
      if (c) return structuredClone(c);
    }
    return null;
  }
  async updateComment(_repo: RepoRef, commentId: number, body: string): Promise<void> {
    this.record("updateComment", commentId, body);
    for (const issue of this.issues.values()) {
      const c = issue.comments.find((x) => x.id === commentId);
      if (c) c.body = body;
    }
  }
  async findCommentByMarker(ref: IssueRef, marker: string): Promise<ForgeComment | null> {
    this.record("findCommentByMarker", ref.number, marker);
    return this.issue(ref.number).comments.find((c) => c.body.includes(marker)) ?? null;
  }
  async addLabels(ref: IssueRef, labels: string[]): Promise<void> {
    this.record("addLabels", ref.number, labels);
    const issue = this.issue(ref.number);
    for (const l of labels) if (!issue.labels.includes(l)) issue.labels.push(l);
  }
  async removeLabel(ref: IssueRef, label: string): Promise<void> {
    this.record("removeLabel", ref.number, label);
    const issue = this.issue(ref.number);
    issue.labels = issue.labels.filter((l) => l !== label);
  }
  async addReaction(_repo: RepoRef, commentId: number, reaction: string): Promise<void> {
    this.record("addReaction", commentId, reaction);
  }
  async findOrCreatePullRequest(
    repo: RepoRef,
    pr: { head: string; base: string; title: string; body: string },
  ): Promise<PullRequestInfo> {
    this.record("findOrCreatePullRequest", pr);
    const existing = this.pulls.find((p) => p.head === pr.head);
    if (existing) return { number: existing.number, url: existing.url, created: false };
    const number = this.nextId++;
    const url = `https://forge.test/${repo.fullName}/pull/${number}`;
    this.pulls.push({ number, url, ...pr });
    return { number, url, created: true };
  }
  async getIssue(ref: IssueRef): Promise<ForgeIssue> {
    this.record("getIssue", ref.number);
    return structuredClone(this.issue(ref.number));
  }
  /** Pull requests `getPullRequest` answers, by number (a test adds them with `addIssue({ isPr: true })` too). */
  readonly pullRequests = new Map<number, ForgePullRequest>();
  readonly reviews: { number: number; body: string }[] = [];
  async getPullRequest(_repo: RepoRef, number: number): Promise<ForgePullRequest> {
    this.record("getPullRequest", number);
    const pr = this.pullRequests.get(number);
    if (!pr) throw forgeError(404, `[memory-forge] no pull request #${number}`);
    return structuredClone(pr);
  }
  async createReview(_repo: RepoRef, number: number, body: string): Promise<ForgeReview> {
    this.record("createReview", number, body);
    this.reviews.push({ number, body });
    return { id: this.nextId++ };
  }
  /** What `getPullRequestDiff` / `listPullRequestReviewComments` answer, by PR number (absent: "" and []). */
  readonly diffs = new Map<number, string>();
  readonly reviewComments = new Map<number, PullRequestReviewComment[]>();
  async getPullRequestDiff(_repo: RepoRef, number: number): Promise<string> {
    this.record("getPullRequestDiff", number);
    return this.diffs.get(number) ?? "";
  }
  async listPullRequestReviewComments(_repo: RepoRef, number: number): Promise<PullRequestReviewComment[]> {
    this.record("listPullRequestReviewComments", number);
    return structuredClone(this.reviewComments.get(number) ?? []);
  }
  async getRepository(repo: RepoRef) {
    this.record("getRepository", repo.fullName);
    return { defaultBranch: repo.defaultBranch ?? "main", cloneUrl: repo.cloneUrl, private: false };
  }
  async gitCredentials(repo: RepoRef): Promise<GitCredentials | null> {
    this.record("gitCredentials", repo.fullName);
    return null;
  }
}

/** ForgeClients over one MemoryForge per forge id. */
export function memoryForges(...forges: MemoryForge[]): ForgeClients {
  return {
    for(forge) {
      const found = forges.find((f) => f.forge === forge);
      if (!found) throw new Error(`[memory-forge] no client for forge \`${forge}\``);
      return found;
    },
    botLogin: () => "forgehand[bot]",
  };
}
