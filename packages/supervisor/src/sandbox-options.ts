import type { SandboxSpec } from "./sandbox/create-sandbox";

/**
 * The sandbox of one supervised process, as a caller of `supervise`/`runCommand` describes it: everything of
 * `SandboxSpec` but what the run itself fixes (the worktree is `cwd`, the command and env are the run's, denied
 * connections go to the run log).
 */
export type SandboxOptions = Omit<SandboxSpec, "worktree" | "command" | "env" | "onDenied" | "files">;
