import { parseRange } from '../input/range.js';
import { msnpError, isMsnpProbeError } from '../core/errors.js';

/** Every fault mode; each is documented in the README with the probe status it produces. */
export const FAULT_MODES = [
  'close', // close without a byte
  'reset', // TCP reset instead of a reply
  'hang', // never answer
  'drip', // the reply one byte at a time, `drip:MS` apart (default 200)
  'split', // the reply cut into one TCP write per byte, back to back
  'partial', // half the reply, then close
  'wrong-trid', // the reply with another trId
  'wrong-version', // accept a version that was not offered
  'cvr0-only', // `VER t CVR0`: no common version, only the CVR0 fallback
  'banner', // an SMTP banner (before the client speaks when the fault covers every version)
  'http', // an HTTP 400 response
  'tls', // a TLS alert record
  'garbage', // binary bytes with NUL and invalid UTF-8
  'endless', // a line that never ends
  'error', // `error:CODE`, a numeric error (default 600 busy)
  'escape', // a reply holding terminal escape sequences
  'out', // `OUT SSD` (server shutting down), then close
  'claim-only', // accept VER, then close silently on the next command (an accepted version that cannot log in)
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface Fault {
  mode: FaultMode;
  /** Versions whose VER triggers the fault (matched on the first version offered); null: all. */
  versions: number[] | null;
  /** `drip:MS` interval or `error:CODE` code. */
  arg: number | null;
}

/**
 * Parses `reset`, `13:reset`, `8-10:error:600` or `drip:50`. Throws MsnpProbeError ERR_FAULT.
 */
export function parseFault(spec: string): Fault {
  const parts = spec.trim().split(':');
  let versions: number[] | null = null;
  if (parts.length > 1 && /^[\dmsnpMSNP,\s-]+$/.test(parts[0] ?? '') && /\d/.test(parts[0] ?? '')) {
    try {
      versions = parseRange(parts.shift() ?? '');
    } catch (err) {
      throw msnpError('ERR_FAULT', `fault '${spec}': ${isMsnpProbeError(err) ? err.message : String(err)}`);
    }
  }
  const mode = parts[0] ?? '';
  if (!(FAULT_MODES as readonly string[]).includes(mode)) {
    throw msnpError('ERR_FAULT', `fault '${spec}': unknown mode '${mode}' (known: ${FAULT_MODES.join(', ')})`);
  }
  let arg: number | null = null;
  if (parts.length > 2) throw msnpError('ERR_FAULT', `fault '${spec}': too many ':' parts`);
  if (parts.length === 2) {
    if (mode !== 'drip' && mode !== 'error')
      throw msnpError('ERR_FAULT', `fault '${spec}': mode '${mode}' takes no argument`);
    const text = parts[1] ?? '';
    if (mode === 'error' && !/^\d{3}$/.test(text))
      throw msnpError('ERR_FAULT', `fault '${spec}': the error code must be 3 digits`);
    if (mode === 'drip' && !/^\d{1,6}$/.test(text))
      throw msnpError('ERR_FAULT', `fault '${spec}': the drip interval must be milliseconds`);
    arg = Number(text);
  }
  return { mode: mode as FaultMode, versions, arg };
}

/** The fault that applies to a VER whose first offered version is `version` (first match wins). */
export function faultFor(faults: readonly Fault[], version: number | undefined): Fault | undefined {
  return faults.find((f) => f.versions === null || (version !== undefined && f.versions.includes(version)));
}
