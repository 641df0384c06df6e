/**
 * The bounds of what a user may ask for, checked in one place (the CLI and the library reject the
 * same values), and the caps on what a server can make us hold. A server is untrusted: every
 * buffer it can fill has a cap here.
 */

/** Inclusive bounds of each numeric option. */
export const OPTION_LIMITS = {
  timeoutMs: { min: 1, max: 600_000 },
  concurrency: { min: 1, max: 1000 },
  globalConcurrency: { min: 1, max: 10_000 },
  workers: { min: 1, max: 256 },
  retries: { min: 0, max: 20 },
  attempts: { min: 1, max: 100 },
  followMax: { min: 0, max: 10_000 },
  port: { min: 1, max: 65_535 },
} as const;

/** Longest line a server may send before the probe gives up on it. */
export const DEFAULT_MAX_LINE_BYTES = 4096;
/** Largest payload (MSG, GCF...) a server may announce. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Largest gateway response body we read; a larger one is `http-invalid` (too-large). */
export const MAX_GATEWAY_BODY = 1024 * 1024;
/** A transcript keeps at most this many bytes; the rest is counted, not stored. */
export const TRANSCRIPT_MAX_BYTES = 64 * 1024;
/** The first bytes received kept per probe (shown in hex when no reply line came). */
export const FIRST_BYTES_KEPT = 64;
/** Longest line read from a target list; a longer one is skipped as invalid without being buffered. */
export const MAX_TARGET_LINE = 1024;
/**
 * A line with no end after this many characters means the input is not a list at all (a device
 * such as /dev/zero, a binary file): reading stops with an error instead of skipping forever.
 */
export const MAX_SKIPPED_LINE = 1024 * 1024;
