export const REDACTED = "[REDACTED]";

/**
 * Literal values shorter than this are not redacted as literals (they would hit ordinary words and
 * numbers); {@link Redactor.skipped} counts them so start-up can say so. Patterns still apply.
 */
export const MIN_SECRET_LENGTH = 8;

/** Base64 forms are only derived for values up to this length (a PEM key gets them per body line). */
export const MAX_ENCODED_SOURCE = 512;
