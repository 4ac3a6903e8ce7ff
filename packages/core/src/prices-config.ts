import { z } from "zod";

const Usd = z.number().min(0);

/**
 * One `prices:` row: USD per million tokens. `cacheRead` (alias `cachedInput`, OpenAI's and Google's name) is the
 * price of input read from a cache; `cacheWrite` of input written to one (Anthropic only).
 */
const PriceRow = z
  .object({
    input: Usd,
    output: Usd,
    cacheRead: Usd.optional(),
    cachedInput: Usd.optional(),
    cacheWrite: Usd.optional(),
  })
  .strict()
  .refine((row) => row.cacheRead === undefined || row.cachedInput === undefined, {
    message: "give cacheRead or its alias cachedInput, not both",
  })
  .transform(({ cachedInput, ...row }) => (cachedInput === undefined ? row : { ...row, cacheRead: cachedInput }));

/**
 * `prices:` — overrides of the built-in price list, keyed by model-id prefix (`gpt-5.1-codex`, `gemini-2.5-pro`,
 * `*` for every model without a row). Used to estimate cost from token counts for every agent.
 */
export const PricesConfig = z.record(z.string().min(1, "a model-id prefix must not be empty"), PriceRow).default({});
export type PricesConfig = z.infer<typeof PricesConfig>;
