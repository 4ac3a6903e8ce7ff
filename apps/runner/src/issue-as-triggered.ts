import type { ForgeClient, ForgeIssue } from "@forgehand/forge";
import { capText, ISSUE_BODY_MAX, ISSUE_TITLE_MAX, type StageJob } from "@forgehand/queue";

/** An issue for the prompt: the text as it was when the run was asked for, and whether it changed since. */
export interface PromptIssue extends ForgeIssue {
  /** True when the forge's title or body now differs from what the triggering delivery carried. */
  editedAfterTrigger?: boolean;
}

/**
 * The forge's issue (labels, comments, state as they are now) with the title and body the trigger
 * saw. Compared by content, not `updated_at`: labelling, commenting and the bot's own status comment
 * bump `updated_at` too, and would mark every run "edited".
 */
export function issueAsTriggered(current: ForgeIssue, at: StageJob["issueAtTrigger"]): PromptIssue {
  if (!at) return current;
  const edited =
    capText(current.title, ISSUE_TITLE_MAX) !== at.title || capText(current.body, ISSUE_BODY_MAX) !== at.body;
  return { ...current, title: at.title, body: at.body, editedAfterTrigger: edited };
}

/**
 * A forge client whose `getIssue` answers with the issue as triggered; every other method is the
 * client's own, bound to it. `first` is an issue already read for this run (by the trigger check):
 * the stage's own read then costs no second forge call.
 */
export function forgeAsTriggered(forge: ForgeClient, job: StageJob, first?: ForgeIssue): ForgeClient {
  let cached = first;
  const getIssue: ForgeClient["getIssue"] = async (ref) => {
    const issue = cached ?? (await forge.getIssue(ref));
    cached = undefined;
    return issueAsTriggered(issue, job.issueAtTrigger);
  };
  return new Proxy(forge, {
    get(target, prop) {
      if (prop === "getIssue") return getIssue;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
