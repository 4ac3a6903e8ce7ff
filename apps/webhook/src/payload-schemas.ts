import type { ForgeEvent, RepoRef } from "@forgehand/core";
import { BadDeliveryError, type DeliveryHeaders } from "./delivery-headers";

// Only the fields routing needs are checked, in place: forges add fields all the time, and any
// other field (or its type) never matters. `null` is accepted where either forge is known to send
// it (Gitea `labels: null`, GitHub `body: null`). Hand-written rather than zod because zod copies
// every object it parses, siblings included, and that was an eighth of a delivery's CPU.

/** A user as both forges send it; Gitea also has the legacy `username`. */
export interface PayloadUser {
  login?: string;
  username?: string;
  type?: string;
}

export interface PayloadLabel {
  name: string;
}

export interface PayloadRepo {
  full_name: string;
  name: string;
  owner: PayloadUser;
  clone_url: string;
  default_branch?: string | null;
}

/** An issue or a pull request (both forges use the same paths for what is needed). */
export interface PayloadIssue {
  number: number;
  title?: string | null;
  body?: string | null;
  state?: string | null;
  labels?: PayloadLabel[] | null;
  pull_request?: unknown;
  merged?: boolean | null;
}

export interface PayloadComment {
  id: number;
  body?: string | null;
  author_association?: string;
}

/** The envelope fields every routed event may carry. */
export interface Envelope {
  action?: string;
  repository?: PayloadRepo;
  issue?: PayloadIssue | null;
  pull_request?: PayloadIssue | null;
  label?: PayloadLabel | null;
  comment?: PayloadComment | null;
  sender?: PayloadUser | null;
  installation?: { id: number } | null;
  is_pull?: boolean;
}

type Json = Record<string, unknown>;
/** Collects "path: problem" lines; only the first few are reported. */
type Problems = string[];

function kind(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function check(problems: Problems, path: string, ok: boolean, want: string, value: unknown): void {
  if (!ok) problems.push(`${path}: expected ${want}, got ${kind(value)}`);
}

/** `optional`: undefined is fine; `nullable`: null is fine too. */
function str(
  p: Problems,
  o: Json,
  key: string,
  path: string,
  opts: { min?: number; optional?: boolean; nullable?: boolean },
) {
  const v = o[key];
  if (v === undefined && (opts.optional || opts.nullable)) return;
  if (v === null && opts.nullable) return;
  if (typeof v !== "string") return check(p, `${path}${key}`, false, "string", v);
  if (opts.min && v.length < opts.min) p.push(`${path}${key}: expected at least ${opts.min} characters`);
}

function int(p: Problems, o: Json, key: string, path: string, positive = false) {
  const v = o[key];
  check(
    p,
    `${path}${key}`,
    Number.isSafeInteger(v) && (!positive || (v as number) > 0),
    positive ? "positive integer" : "integer",
    v,
  );
}

function user(p: Problems, v: unknown, path: string) {
  if (!isObject(v)) return check(p, path, false, "object", v);
  for (const key of ["login", "username", "type"]) str(p, v, key, `${path}.`, { optional: true });
}

function label(p: Problems, v: unknown, path: string) {
  if (!isObject(v)) return check(p, path, false, "object", v);
  str(p, v, "name", `${path}.`, {});
}

function repo(p: Problems, v: unknown, path: string) {
  if (!isObject(v)) return check(p, path, false, "object", v);
  const at = `${path}.`;
  str(p, v, "full_name", at, { min: 3 });
  str(p, v, "name", at, { min: 1 });
  user(p, v.owner, `${at}owner`);
  str(p, v, "clone_url", at, { min: 1 });
  str(p, v, "default_branch", at, { nullable: true });
}

function issue(p: Problems, v: unknown, path: string) {
  if (!isObject(v)) return check(p, path, false, "object", v);
  const at = `${path}.`;
  int(p, v, "number", at, true);
  for (const key of ["title", "body", "state"]) str(p, v, key, at, { nullable: true });
  const labels = v.labels;
  if (Array.isArray(labels)) {
    for (let i = 0; i < labels.length; i++) label(p, labels[i], `${at}labels.${i}`);
  } else if (labels !== undefined && labels !== null) check(p, `${at}labels`, false, "array", labels);
  if (v.merged !== undefined && v.merged !== null)
    check(p, `${at}merged`, typeof v.merged === "boolean", "boolean", v.merged);
}

function comment(p: Problems, v: unknown, path: string) {
  if (!isObject(v)) return check(p, path, false, "object", v);
  int(p, v, "id", `${path}.`);
  str(p, v, "body", `${path}.`, { nullable: true });
  str(p, v, "author_association", `${path}.`, { optional: true });
}

/** Checks the envelope in place (no copy) or answers 400 naming the first bad fields. */
export function parseEnvelope(json: Json, headers: DeliveryHeaders): Envelope {
  const p: Problems = [];
  str(p, json, "action", "", { optional: true });
  if (json.repository !== undefined) repo(p, json.repository, "repository");
  const present = (key: string) => json[key] !== undefined && json[key] !== null;
  if (present("issue")) issue(p, json.issue, "issue");
  if (present("pull_request")) issue(p, json.pull_request, "pull_request");
  if (present("label")) label(p, json.label, "label");
  if (present("comment")) comment(p, json.comment, "comment");
  if (present("sender")) user(p, json.sender, "sender");
  if (present("installation")) {
    if (isObject(json.installation)) int(p, json.installation, "id", "installation.");
    else check(p, "installation", false, "object", json.installation);
  }
  if (json.is_pull !== undefined) check(p, "is_pull", typeof json.is_pull === "boolean", "boolean", json.is_pull);
  if (p.length === 0) return json as Envelope;
  throw new BadDeliveryError(
    `[webhook] ${headers.flavour} \`${headers.event}\` payload is not usable: ${p.slice(0, 3).join("; ")}`,
  );
}

/** Requires a field that routing cannot do without, with a 400 that names it. */
export function required<T>(value: T | null | undefined, what: string, headers: DeliveryHeaders): T {
  if (value === null || value === undefined)
    throw new BadDeliveryError(`[webhook] ${headers.flavour} \`${headers.event}\` payload has no \`${what}\``);
  return value;
}

export function loginOf(user: PayloadUser | null | undefined): string | undefined {
  return user?.login || user?.username || undefined;
}

/** Maps the repository block to a RepoRef. */
export function repoRefOf(repo: PayloadRepo, headers: DeliveryHeaders): RepoRef {
  const owner = loginOf(repo.owner) ?? repo.full_name.split("/")[0] ?? "";
  return {
    forge: headers.forge,
    fullName: repo.full_name,
    owner,
    name: repo.name,
    cloneUrl: repo.clone_url,
    ...(repo.default_branch ? { defaultBranch: repo.default_branch } : {}),
  };
}

/** Maps an issue/PR block to the ForgeEvent issue shape. */
export function issueOf(issue: PayloadIssue, isPr: boolean, merged?: boolean): ForgeEvent["issue"] {
  return {
    number: issue.number,
    isPr,
    title: issue.title ?? "",
    body: issue.body ?? "",
    state: issue.state ?? "",
    labels: (issue.labels ?? []).map((l) => l.name),
    ...(merged !== undefined ? { merged } : {}),
  };
}

/**
 * Final check of the normalised event. Every field was type-checked on the way in; what the
 * envelope check cannot promise is a non-empty owner (`full_name` "/x" with no owner login), so
 * that is checked here. A bug here is ours, but it must still never crash a delivery.
 */
export function checkedEvent(event: ForgeEvent): ForgeEvent {
  if (event.repo && !event.repo.owner)
    throw new BadDeliveryError(
      `[webhook] normalised event is invalid: repository \`${event.repo.fullName}\` has no owner`,
    );
  return event;
}
