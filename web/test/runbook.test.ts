import { readFileSync } from "node:fs";
import { alertingRules } from "@surge/grafana/prometheus";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { RUNBOOK_MARKDOWN } from "../src/generated/runbook";
import { liveFigure, runbookHref, sourceHref } from "../src/lib/grafana";
import { headingAnchors, renderMarkdown, slug } from "../src/lib/markdown";
import type { AlertView, OpsSnapshot } from "../src/lib/ops";

const alert = (over: Partial<AlertView>): AlertView => ({
  id: "a",
  name: "SurgeDeadLetters",
  source: "prometheus",
  status: "firing",
  labels: { alertname: "SurgeDeadLetters" },
  annotations: {},
  startsAt: new Date(0).toISOString(),
  lastReceivedAt: new Date(0).toISOString(),
  links: {},
  ...over,
});

describe("the Runbook page", () => {
  it("is built from docs/runbook.md as it is now (run `node web/scripts/runbook.mjs` after editing it)", () => {
    expect(RUNBOOK_MARKDOWN).toBe(readFileSync(new URL("../../docs/runbook.md", import.meta.url), "utf8"));
  });

  it("has GitHub's anchor on every heading", () => {
    expect(slug("Surge queue age (warning)")).toBe("surge-queue-age-warning");
    expect(slug("surge-STAGE-dead-letters")).toBe("surge-stage-dead-letters");
    const html = renderToStaticMarkup(createElement("div", null, renderMarkdown(RUNBOOK_MARKDOWN)));
    for (const anchor of headingAnchors(RUNBOOK_MARKDOWN)) expect(html).toContain(`id="${anchor}"`);
    expect(html).toContain('<h2 id="surgedeadletters">SurgeDeadLetters</h2>');
    // Links within the page stay links; other docs are named, never a relative link onto the 404.
    expect(html).toContain('href="#surgequeueagewarning"');
    expect(html).not.toMatch(/href="[^"#h][^"]*\.md/);
    expect(html).toContain("(docs/observability.md#alerting)");
    expect(html).toContain("<code>PUT /ops/fleet {&quot;desiredCount&quot;: n}</code>");
  });
});

describe("alert links", () => {
  it("open every Prometheus rule's runbook entry on the console, never a relative README link", () => {
    for (const rule of alertingRules().rules) {
      const href = runbookHref(alert({ name: rule.alert, annotations: { runbook: rule.annotations.runbook } }));
      expect(href).toBe(`/runbook#${rule.annotations.runbook.split("#")[1]}`);
      expect(headingAnchors(RUNBOOK_MARKDOWN)).toContain(href.split("#")[1]);
    }
    expect(runbookHref(alert({ annotations: { runbook: "README.md#dead-letters" } }))).toBe(
      "/runbook#surgedeadletters",
    );
    expect(runbookHref(alert({ name: "Unknown", labels: { alertname: "Unknown" } }))).toBe("/runbook");
    expect(runbookHref(alert({ annotations: { runbook: "https://wiki.example/dlq" } }))).toBe(
      "https://wiki.example/dlq",
    );
  });

  it("point source links at the configured Prometheus or Grafana, never the machine's host name", () => {
    const prom = alert({ links: { generator: "http://build-box-7:9090/graph?g0.expr=up&g0.tab=1" } });
    expect(sourceHref(prom, { prometheusUrl: "https://prom.example/", grafanaUrl: null })).toBe(
      "https://prom.example/graph?g0.expr=up&g0.tab=1",
    );
    expect(sourceHref(prom, { prometheusUrl: null, grafanaUrl: "https://grafana.example" })).toBeUndefined();
    const grafana = alert({ source: "grafana", links: { generator: "http://box:3001/alerting/grafana/u1/view" } });
    expect(sourceHref(grafana, { prometheusUrl: null, grafanaUrl: "https://grafana.example" })).toBe(
      "https://grafana.example/alerting/grafana/u1/view",
    );
    expect(sourceHref(alert({}), { prometheusUrl: "https://prom.example", grafanaUrl: null })).toBeUndefined();
  });

  it("give the live value beside a quoted one", () => {
    const state = {
      at: "",
      queue: { visible: 3, inFlight: 0, delayed: 0, dlq: 7, oldestAgeSeconds: 90, backlog: 12, outboxPending: 0 },
      fleet: { running: 2, desiredCount: 4 },
    } as unknown as OpsSnapshot;
    expect(liveFigure(alert({}), state)).toBe("7 in the DLQ");
    expect(
      liveFigure(alert({ name: "SurgeQueueAgeWarning", labels: { alertname: "SurgeQueueAgeWarning" } }), state),
    ).toBe("oldest order 1 min 30 s");
    expect(
      liveFigure(alert({ name: "SurgeFleetBelowDesired", labels: { alertname: "SurgeFleetBelowDesired" } }), state),
    ).toBe("2 of 4 tasks running");
    expect(liveFigure(alert({}), undefined)).toBeUndefined();
    expect(liveFigure(alert({ name: "SurgeApiDown", labels: { alertname: "SurgeApiDown" } }), state)).toBeUndefined();
  });
});
