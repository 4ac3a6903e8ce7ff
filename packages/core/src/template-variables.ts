/** A `{{ name }}` placeholder of a prompt template (names: letters, digits, `.`, `_`, `-`). */
export const TEMPLATE_PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** The names a prompt template may use besides `stages.<name>.output`. */
export const TEMPLATE_VARIABLES = [
  "issue.title",
  "issue.body",
  "issue.number",
  "issue.labels",
  "issue.comments",
  "issue.edited",
  "repo",
  "stage",
  "branch",
  "previous.output",
  "trigger.comment",
  "pr.diff",
  "pr.title",
  "pr.body",
  "pr.reviewComments",
] as const;

const KNOWN = new Set<string>(TEMPLATE_VARIABLES);

/** The `{{…}}` names in a template, in order of first use. */
export function templateVariableNames(template: string): string[] {
  return [...new Set([...template.matchAll(TEMPLATE_PLACEHOLDER)].map((m) => m[1] as string))];
}

/**
 * The names of `template` that would not be replaced: neither a known variable nor
 * `stages.<name>.output` of a configured stage. A config using one is refused at load.
 */
export function unknownTemplateVariables(template: string, stageNames: readonly string[]): string[] {
  const stages = new Set(stageNames);
  return templateVariableNames(template).filter((name) => {
    if (KNOWN.has(name)) return false;
    const m = /^stages\.(.+)\.output$/.exec(name);
    return !(m && stages.has(m[1] as string));
  });
}
