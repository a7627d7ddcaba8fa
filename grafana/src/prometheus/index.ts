/** What the local stack runner and tests take from here: the config and rule renderers. */
export {
  LOCAL_DEFAULTS,
  type PrometheusConfigOptions,
  prometheusConfig,
  RULE_FILES,
  renderPrometheusConfig,
} from "./config.js";
export {
  type AlertParams,
  alertingRules,
  DEFAULT_ALERT_PARAMS,
  RECORDED,
  recordingRules,
  renderRuleFile,
} from "./rules.js";
