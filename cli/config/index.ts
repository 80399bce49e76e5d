export { ConfigError, type ConfigIssue } from "./config-error.js";
export { loadConfigFile, parseConfigText } from "./load-config-file.js";
