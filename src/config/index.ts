/** The config module's public API: load a validated `Config`, and its types. */
export {
  CONFIG_ENV_VAR,
  DEFAULT_CONFIG_FILE,
  loadConfig,
  parseConfigText,
  resolveConfigPath,
  type LoadedConfig,
} from './load.js';
export { expandString, type Env, type Expansion } from './expand.js';
export {
  configSchema,
  isStdio,
  SERVER_ID,
  type Config,
  type RemoteServerConfig,
  type RoutingRule,
  type ServerConfig,
  type StdioServerConfig,
} from './schema.js';
