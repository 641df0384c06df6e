/** Stable codes for errors the library throws on bad input; scripts may match on `code`. */
export type MsnpErrorCode =
  | 'ERR_RANGE' // a version range that cannot be parsed or is out of bounds
  | 'ERR_TARGET' // a host, port or HOST[:PORT] that cannot be used
  | 'ERR_OPTION' // any other option with a bad value
  | 'ERR_FAULT' // an emulator fault specification that cannot be parsed
  | 'ERR_PROFILE'; // an unknown emulator profile

export class MsnpProbeError extends Error {
  override name = 'MsnpProbeError';
  constructor(
    readonly code: MsnpErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function msnpError(code: MsnpErrorCode, message: string): MsnpProbeError {
  return new MsnpProbeError(code, message);
}

export function isMsnpProbeError(err: unknown): err is MsnpProbeError {
  return err instanceof MsnpProbeError;
}
