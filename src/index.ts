/**
 * The library API: a typed coordination client (publish, subscribe, lock, claim, list) for other
 * Node services, built from the same modules the coordinator uses.
 */
export { CoordinationClient } from './coordination/client.js';
export type { CoordinationEvent, EventType, EventBus, BusStatus } from './coordination/types.js';
export { EVENT_TYPES } from './coordination/types.js';
export type { Config, ServerConfig } from './config/schema.js';
export { loadConfig } from './config/index.js';
