/** `msnp-probe/emulator`: the emulated MSNP servers, their profiles, faults and session logic. */
export { startEmulator } from './server.js';
export type { Emulator, EmulatorOptions, EmulatorStats } from './server.js';
export { PROFILES, PROFILE_NAMES, getProfile } from './profiles.js';
export type { Profile } from './profiles.js';
export { parseFault, FAULT_MODES } from './faults.js';
export type { Fault, FaultMode } from './faults.js';
export { EmulatorSession } from './session.js';
export * as replies from './replies.js';
