export { configSchema, type Config, type ConfigInput } from './schema.js';
export { loadConfig, envPath, ENV_PREFIX, type LoadConfigOptions } from './load-config.js';
