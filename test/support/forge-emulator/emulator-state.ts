/** Permission levels the emulator stores; GitHub role names plus Gitea's `owner`. */
export type EmulatedRole = "none" | "read" | "triage" | "write" | "maintain" | "admin" | "owner";

export interface EmulatedLabel {
  id: number;
  name: string;
  color: string;
  description: string;
}

export interface EmulatedIssue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  isPr: boolean;
  /** Label names currently on the issue. */
  labels: string[];
  author: string;
  createdAt: string;
}

export interface EmulatedComment {
  id: number;
  issue: number;
  body: string;
  author: string;
  createdAt: string;
  updatedAt: string;
}

export interface EmulatedReaction {
  id: number;
  commentId: number;
  user: string;
  content: string;
}

export interface EmulatedPull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: "open" | "closed";
  merged: boolean;
  /** `owner/name` of the fork the head branch lives in; absent: this repository. */
  headRepo?: string;
  /** Who opened it. @defaultValue the repository owner */
  author?: string;
  /** The diff the API answers; absent: `git diff base...head` of the bare repository (pull-heads.ts). */
  diff?: string;
}

/** A review posted on a pull request (`POST …/pulls/{n}/reviews`). */
export interface EmulatedReview {
  id: number;
  pull: number;
  body: string;
  event: string;
  author: string;
  submittedAt: string;
}

/** An inline comment on a PR's diff, part of review `review` (GitHub and Gitea group them by review). */
export interface EmulatedReviewComment {
  id: number;
  pull: number;
  review: number;
  body: string;
  path: string;
  /** Line in the new file; absent: a comment on the file. */
  line?: number;
  author: string;
  createdAt: string;
}

export interface EmulatedRepo {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  defaultBranch: string;
  private: boolean;
  labels: EmulatedLabel[];
  issues: Map<number, EmulatedIssue>;
  comments: EmulatedComment[];
  reactions: EmulatedReaction[];
  pulls: EmulatedPull[];
  reviews: EmulatedReview[];
  reviewComments: EmulatedReviewComment[];
  /** login → role on this repository. */
  permissions: Map<string, EmulatedRole>;
}

/** Everything the emulator holds; tests read and seed it directly. */
export interface EmulatorState {
  repos: Map<string, EmulatedRepo>;
  /** token → who it authenticates and until when (ms epoch; undefined = never expires). */
  tokens: Map<string, { login: string; expiresAt?: number; installationId?: number }>;
  /** Every known user login (a 404 from the permission endpoint means "not here"). */
  users: Set<string>;
  nextId: number;
  /** fullName → bare repository served at its clone URL (see `ForgeEmulatorOptions.gitRepos`): PR head shas are read there. */
  gitDirs: Map<string, string>;
}

export function createState(): EmulatorState {
  return { repos: new Map(), tokens: new Map(), users: new Set(), nextId: 1000, gitDirs: new Map() };
}

/** A monotonically increasing id shared by comments, labels, reactions and repos. */
export function nextId(state: EmulatorState): number {
  state.nextId += 1;
  return state.nextId;
}

export function addRepo(
  state: EmulatorState,
  fullName: string,
  opts: { defaultBranch?: string; private?: boolean; labels?: string[] } = {},
): EmulatedRepo {
  const [owner, name] = fullName.split("/");
  if (!owner || !name) throw new Error(`[forge-emulator] Expected "owner/name", got "${fullName}"`);
  const repo: EmulatedRepo = {
    id: nextId(state),
    owner,
    name,
    fullName,
    defaultBranch: opts.defaultBranch ?? "main",
    private: opts.private ?? false,
    labels: [],
    issues: new Map(),
    comments: [],
    reactions: [],
    pulls: [],
    reviews: [],
    reviewComments: [],
    permissions: new Map(),
  };
  for (const label of opts.labels ?? []) ensureLabel(state, repo, label);
  state.repos.set(fullName, repo);
  state.users.add(owner);
  repo.permissions.set(owner, "admin");
  return repo;
}

export function ensureLabel(state: EmulatorState, repo: EmulatedRepo, name: string): EmulatedLabel {
  const found = repo.labels.find((l) => l.name === name);
  if (found) return found;
  const label = { id: nextId(state), name, color: "ededed", description: "" };
  repo.labels.push(label);
  return label;
}

export function nowIso(): string {
  return new Date().toISOString();
}
