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
  /** `--max-rate`, connections per second across the run: down to one a quarter-hour, up to what no host needs. */
  maxRate: { min: 0.001, max: 1_000_000 },
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

/** Lowest and highest version numbers a range may name. */
export const MIN_VERSION = 1;
export const MAX_VERSION = 99;

/** Lines that may precede the VER reply without answering it (unsolicited, trId 0 or none). */
export const MAX_UNSOLICITED_LINES = 8;
/** Unsolicited lines a deep step skips, and payloads it records, before the server counts as off-script. */
export const MAX_DEEP_SKIPPED = 32;
/** Lines and bytes per line a fingerprint trait keeps, so a chatty server cannot grow its record. */
export const MAX_TRAIT_LINES = 12;
export const MAX_TRAIT_LINE_BYTES = 1024;
export const MAX_TRAIT_PAYLOAD_BYTES = 64 * 1024;
/** How many candidate implementations a fingerprint report keeps. */
export const MAX_MATCHES = 5;

/** More rows than this would make a picture nobody reads; the SVG renderer refuses them. */
export const MAX_SVG_TARGETS = 1000;
/** At most this many characters of a badge's label or message are drawn; longer text is cut. */
export const MAX_BADGE_TEXT = 40;

/** An exporter config bigger than this is refused unread: a config is short, and YAML parsing costs memory. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
export const MAX_MODULES = 100;
export const MAX_MODULE_TARGETS = 10_000;
/** Connections per probe an exporter module may ask for; the exporter runs several probes at once. */
export const MAX_MODULE_CONCURRENCY = 64;
/** A scrape timeout header above this is capped to it (the longest module timeout). */
export const MAX_SCRAPE_TIMEOUT_SECONDS = 600;
/** The exporter's request line and headers. */
export const MAX_URL_BYTES = 2048;
export const MAX_HEADER_BYTES = 8192;

/** `--shard auto` counts at most this many shards. */
export const MAX_SHARDS = 999_999;
/** An exclude file larger than this is refused rather than read: a device or a wrong file, not a list. */
export const MAX_EXCLUDE_FILE = 16 * 1024 * 1024;
/** A report file larger than this is refused by `badge --from`: a badge needs one target of it. */
export const MAX_REPORT_BYTES = 64 * 1024 * 1024;
/** The emulated HTTP gateway reads request bodies up to this size. */
export const MAX_GATEWAY_REQUEST_BODY = 64 * 1024;
