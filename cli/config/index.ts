export { ConfigError, type ConfigIssue } from "./config-error.js";
export { issueAtKey } from "./issue-at-key.js";
export { loadConfigFile, parseConfigText } from "./load-config-file.js";
