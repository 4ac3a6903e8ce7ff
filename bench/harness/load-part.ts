import { NotMeasuredError } from "./figure";

/**
 * Imports a forgehand package that may not have landed yet and checks it exports the
 * named functions. The specifier is a variable on purpose: the bench must type-check and
 * run while other packages are still being written, and report "not measured" for them.
 */
export async function loadPart<T>(specifier: string, names: readonly string[]): Promise<T> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const text = String((error as Error)?.message ?? error);
    if (/Cannot find (module|package)|ERR_MODULE_NOT_FOUND|does not provide an export/.test(text))
      throw new NotMeasuredError(`${specifier} is not available yet (${text.split("\n")[0]})`, { cause: error });
    throw error;
  }
  const missing = names.filter((n) => typeof mod[n] !== "function");
  if (missing.length) throw new NotMeasuredError(`${specifier} does not export ${missing.join(", ")} yet`);
  return mod as T;
}
