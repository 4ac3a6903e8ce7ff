/** Default cap on the bytes of all request bodies being read at once (SPEC "Webhook limits"). */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
/** Default time a body may take to arrive once its headers are in. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/** The in-flight cap is reached: answered 503 with Retry-After, the body is not (or no further) read. */
export class BodyBudgetError extends Error {
  override name = "BodyBudgetError";
}

/** The body did not arrive in time: answered 408. */
export class BodyTimeoutError extends Error {
  override name = "BodyTimeoutError";
}

/** One request's share of the budget: grows as its body arrives, released once it is handled. */
export interface BodyReservation {
  /** Counts `n` more bytes of this body; false (and nothing counted) when the budget cannot hold them. */
  take(n: number): boolean;
  /** Gives back everything this request holds; idempotent. */
  release(): void;
}

/**
 * The total bytes of request bodies one webhook process holds at a time. A body with a declared
 * Content-Length reserves it all before a byte is read (Node's parser never delivers more); a chunked
 * body reserves as it arrives. Nothing is held past the reply: the handler releases its reservation.
 */
export class BodyBudget {
  private used = 0;
  constructor(readonly max: number = DEFAULT_MAX_IN_FLIGHT_BYTES) {}

  /** Bytes reserved now. */
  get inFlight(): number {
    return this.used;
  }

  /** A reservation of `declared` bytes up front (0 for chunked bodies), or null when they do not fit. */
  reserve(declared = 0): BodyReservation | null {
    if (this.used + declared > this.max) return null;
    this.used += declared;
    let reserved = declared;
    let read = 0;
    return {
      take: (n) => {
        if (read + n <= reserved) {
          read += n;
          return true;
        }
        const more = read + n - reserved;
        if (this.used + more > this.max) return false;
        this.used += more;
        reserved += more;
        read += n;
        return true;
      },
      release: () => {
        this.used -= reserved;
        reserved = 0;
        read = 0;
      },
    };
  }
}

/** What a body reader is told besides the size limit. */
export interface ReadLimits {
  reservation?: BodyReservation;
  /** @defaultValue DEFAULT_BODY_TIMEOUT_MS */
  timeoutMs?: number;
}
