/**
 * Grafana's datasource and dashboard-provider provisioning files. Field names
 * follow Grafana's provisioning loader (apiVersion 1).
 */
import { GRAFANA_ENV } from "./alerting.js";
import { DATASOURCE, FOLDER } from "./common.js";
import { LOCAL_DEFAULTS } from "./prometheus/config.js";

/** Where the compose file mounts grafana/provisioning inside the Grafana container. */
export const CONTAINER_PROVISIONING_DIR = "/etc/grafana/provisioning";

export function datasourcesFile(): Record<string, unknown> {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: "Surge Prometheus",
        type: DATASOURCE.type,
        // Fixed: every panel and alert rule names the datasource by this uid.
        uid: DATASOURCE.uid,
        orgId: 1,
        access: "proxy",
        url: `\${${GRAFANA_ENV.prometheusUrl}}`,
        isDefault: true,
        editable: false,
        jsonData: {
          httpMethod: "POST",
          // The scrape interval: Grafana derives $__rate_interval from it (at least 4 scrapes).
          timeInterval: `${LOCAL_DEFAULTS.scrapeIntervalSeconds}s`,
          prometheusType: "Prometheus",
        },
      },
    ],
  };
}

export function dashboardProvidersFile(): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: "surge",
        orgId: 1,
        type: "file",
        folder: FOLDER.title,
        folderUid: FOLDER.uid,
        // The generator is the source of truth: no deleting or saving over them from the UI.
        disableDeletion: true,
        allowUiUpdates: false,
        editable: false,
        updateIntervalSeconds: 30,
        options: { path: `${CONTAINER_PROVISIONING_DIR}/dashboards`, foldersFromFilesStructure: false },
      },
    ],
  };
}
