/** Injection tokens for what the app factory hands to Nest. */
export const API_CONFIG = Symbol('LatchkeyConfig');
export const TEMPORAL_CLIENT = Symbol('TemporalClient');
export const POLICY = Symbol('LoadedPolicy');
export const API_LOGGER = Symbol('ApiLogger');
