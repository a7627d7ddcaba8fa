import { createHash } from "node:crypto";
import { type OrderStore, parseOrThrow } from "@surge/core";
import { z } from "zod";
import { actorOf, type OpsModule } from "../context.js";

/**
 * `/ops/alerts` (routes in docs/observability.md). Kept in the store, one record per alert: Grafana
 * re-sends only every repeat interval, and a restarted API, or its neighbour, must still know what fires.
 */
type AlertSource = "grafana" | "alertmanager" | "prometheus";
type AlertStatus = "firing" | "resolved";

/** One alert as the console shows it. */
export interface AlertView {
  /** Hash of the label set: the same alert across notifications. */
  id: string;
  name: string;
  severity?: string;
  source: AlertSource;
  status: AlertStatus;
  summary?: string;
  description?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** When it resolved (resolved alerts only). */
  endsAt?: string;
  /** When a notification about it last arrived. */
  lastReceivedAt: string;
  /**
   * Firing, but not re-sent for longer than the sender promises (webhooks
   * re-send every repeat interval): the sender may be down, so the alert may
   * have resolved unseen. Shown, flagged, never silently dropped.
   */
  stale?: boolean;
  links: { generator?: string; dashboard?: string; panel?: string; silence?: string };
}

export interface AlertsSection {
  firing: AlertView[];
  /** The most recently resolved, newest first. */
  resolved: AlertView[];
}

interface StoredAlert {
  id: string;
  name: string;
  severity?: string;
  source: AlertSource;
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** Resolved: when. Firing (Prometheus): when it expires unless re-sent, as Alertmanager treats it. */
  endsAt?: string;
  lastReceivedAtMs: number;
  links: AlertView["links"];
}

interface AlertsModuleOptions {
  /**
   * A webhook alert still firing but not re-sent for this long is flagged stale,
   * in ms. Default 2 h: twice the provisioned Grafana policy's 1 h repeat interval.
   */
  staleAfterMs?: number;
  /** Resolved alerts listed, newest first. Default 20. */
  resolvedShown?: number;
  now?: () => number;
}

const RECORD_KIND = "alert";
/** Distinct alerts (label sets) read back; far above what Surge's rules can produce. */
const RECORDS_READ = 500;

const labelMap = z.record(z.string(), z.string());
// Alertmanager and Grafana write "0001-01-01T00:00:00Z" for "not ended": any time before 1970 means absent.
const timestamp = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), "must be an RFC 3339 timestamp")
  .transform((s) => (Date.parse(s) > 0 ? new Date(Date.parse(s)).toISOString() : undefined));
const alertname = labelMap.refine((l) => typeof l.alertname === "string" && l.alertname.length > 0, {
  message: "must include alertname",
});

/** One alert of a Grafana / Alertmanager webhook notification (unknown fields are ignored). */
const webhookAlert = z.looseObject({
  status: z.enum(["firing", "resolved"], "must be firing or resolved"),
  labels: alertname,
  annotations: labelMap.default({}),
  startsAt: timestamp,
  endsAt: timestamp.optional(),
  generatorURL: z.string().optional(),
  dashboardURL: z.string().optional(),
  panelURL: z.string().optional(),
  silenceURL: z.string().optional(),
});
const webhookPayload = z.looseObject({
  alerts: z.array(webhookAlert).max(1000, "at most 1000 alerts per notification"),
  /** Grafana's payload carries orgId; Alertmanager's carries version "4". */
  orgId: z.number().optional(),
});
/** Alertmanager API v2 postable alerts, as Prometheus sends them. */
const postableAlerts = z
  .array(
    z.looseObject({
      labels: alertname,
      annotations: labelMap.default({}),
      startsAt: timestamp.optional(),
      endsAt: timestamp.optional(),
      generatorURL: z.string().optional(),
    }),
  )
  .max(1000, "at most 1000 alerts per request");

/** Stable id of an alert: its label set, order-independent. */
export function alertId(labels: Record<string, string>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join("\u0000");
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

const SEVERITY_ORDER: Record<string, number> = { critical: 0, warning: 1 };

export function alertsModule(store: OrderStore, options: AlertsModuleOptions = {}): OpsModule {
  const now = options.now ?? Date.now;
  const staleAfterMs = options.staleAfterMs ?? 2 * 60 * 60 * 1000;
  const resolvedShown = options.resolvedShown ?? 20;

  const view = (a: StoredAlert, nowMs: number): AlertView => {
    const ends = a.endsAt ? Date.parse(a.endsAt) : undefined;
    // As Alertmanager does: a firing alert whose endsAt has passed without a refresh has resolved.
    const status: AlertStatus = a.status === "firing" && ends !== undefined && ends <= nowMs ? "resolved" : a.status;
    const stale = status === "firing" && a.source !== "prometheus" && nowMs - a.lastReceivedAtMs > staleAfterMs;
    return {
      id: a.id,
      name: a.name,
      ...(a.severity !== undefined && { severity: a.severity }),
      source: a.source,
      status,
      ...(a.annotations.summary !== undefined && { summary: a.annotations.summary }),
      ...(a.annotations.description !== undefined && { description: a.annotations.description }),
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      ...(status === "resolved" && a.endsAt !== undefined && { endsAt: a.endsAt }),
      lastReceivedAt: new Date(a.lastReceivedAtMs).toISOString(),
      ...(stale && { stale: true }),
      links: a.links,
    };
  };

  const section = async (): Promise<AlertsSection> => {
    const nowMs = now();
    const all = (await store.listRecords<StoredAlert>(RECORD_KIND, { limit: RECORDS_READ })).map((r) =>
      view(r.data, nowMs),
    );
    const firing = all
      .filter((a) => a.status === "firing")
      .sort(
        (a, b) =>
          (SEVERITY_ORDER[a.severity ?? ""] ?? 2) - (SEVERITY_ORDER[b.severity ?? ""] ?? 2) ||
          a.startsAt.localeCompare(b.startsAt),
      );
    const resolved = all
      .filter((a) => a.status === "resolved")
      .sort((a, b) => (b.endsAt ?? b.lastReceivedAt).localeCompare(a.endsAt ?? a.lastReceivedAt))
      .slice(0, resolvedShown);
    return { firing, resolved };
  };

  const save = async (alerts: StoredAlert[]): Promise<{ firing: number; resolved: number }> => {
    for (const alert of alerts) await store.putRecord(RECORD_KIND, alert.id, alert, alert.lastReceivedAtMs);
    const nowMs = now();
    const firing = alerts.filter((a) => view(a, nowMs).status === "firing").length;
    return { firing, resolved: alerts.length - firing };
  };

  return {
    name: "alerts",
    routes(router, ctx) {
      ctx.state.register("alerts", section);

      router.get("/alerts", async (_req, res) => {
        res.json(await section());
      });

      router.post("/alerts", async (req, res) => {
        const payload = parseOrThrow(webhookPayload, req.body, "alert notification");
        const source: AlertSource = payload.orgId !== undefined ? "grafana" : "alertmanager";
        const receivedAtMs = now();
        const counts = await save(
          payload.alerts.map((a) => ({
            id: alertId(a.labels),
            name: a.labels.alertname ?? "",
            ...(a.labels.severity !== undefined && { severity: a.labels.severity }),
            source,
            status: a.status,
            labels: a.labels,
            annotations: a.annotations,
            startsAt: a.startsAt ?? new Date(receivedAtMs).toISOString(),
            ...(a.status === "resolved" && { endsAt: a.endsAt ?? new Date(receivedAtMs).toISOString() }),
            lastReceivedAtMs: receivedAtMs,
            links: {
              ...(a.generatorURL && { generator: a.generatorURL }),
              ...(a.dashboardURL && { dashboard: a.dashboardURL }),
              ...(a.panelURL && { panel: a.panelURL }),
              ...(a.silenceURL && { silence: a.silenceURL }),
            },
          })),
        );
        ctx.log.info("alert notification received", { source, sender: actorOf(res).label, ...counts });
        res.json({ received: payload.alerts.length, ...counts });
      });

      // Alertmanager's API: Prometheus re-sends every firing alert each minute with an
      // endsAt a few minutes ahead, and sends it once more with endsAt = now when it resolves.
      router.post("/alerts/api/v2/alerts", async (req, res) => {
        const alerts = parseOrThrow(postableAlerts, req.body, "alerts");
        const receivedAtMs = now();
        const counts = await save(
          alerts.map((a) => {
            const ended = a.endsAt !== undefined && Date.parse(a.endsAt) <= receivedAtMs;
            return {
              id: alertId(a.labels),
              name: a.labels.alertname ?? "",
              ...(a.labels.severity !== undefined && { severity: a.labels.severity }),
              source: "prometheus",
              status: ended ? "resolved" : "firing",
              labels: a.labels,
              annotations: a.annotations,
              startsAt: a.startsAt ?? new Date(receivedAtMs).toISOString(),
              ...(a.endsAt !== undefined && { endsAt: a.endsAt }),
              lastReceivedAtMs: receivedAtMs,
              links: { ...(a.generatorURL && { generator: a.generatorURL }) },
            } satisfies StoredAlert;
          }),
        );
        if (counts.resolved > 0 || counts.firing > 0) ctx.log.debug("alerts received from Prometheus", counts);
        res.status(200).json({});
      });
    },
  };
}
