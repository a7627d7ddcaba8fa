/**
 * Shared builders and fixed identifiers for every generated artifact. UIDs are constants, never
 * derived from titles: dashboards, alert rules and datasources refer to each other by them.
 */
import * as common from "@grafana/grafana-foundation-sdk/common";
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";

/** The Prometheus datasource every panel and Grafana-managed rule queries (provisioned with this uid). */
export const DATASOURCE = { type: "prometheus", uid: "surge-prometheus" } as const;

/** Grafana's server-side expressions (reduce, threshold) in alert rules. */
export const EXPRESSION_DATASOURCE = { type: "__expr__", uid: "__expr__" } as const;

/** The folder the dashboards provider creates; Grafana-managed alert rules live in it too. */
export const FOLDER = { uid: "surge", title: "Surge" } as const;

export const DASHBOARDS = {
  overview: { uid: "surge-overview", title: "Surge / Overview", file: "surge-overview.json" },
  workers: { uid: "surge-workers", title: "Surge / Workers", file: "surge-workers.json" },
  lambda: { uid: "surge-lambda", title: "Surge / Lambda", file: "surge-lambda.json" },
} as const;

/** Panel ids other artifacts point at (the Grafana queue-age rules link to this panel). */
export const OVERVIEW_PANEL_IDS = { oldestOrderAge: 12 } as const;

/** Queue-age thresholds shared by both alert sets and the panels: the red line on the graph is the one that pages. */
export const QUEUE_AGE = { warningSeconds: 60, criticalSeconds: 300 } as const;

/** Job names in the Prometheus config; panels and alerts select on them. */
export const JOBS = { api: "surge-api", workers: "surge-workers", lambda: "surge-lambda" } as const;

/**
 * Grafana units by what a series measures. A panel's unit follows the metric's
 * suffix: `_seconds` → s, `_bytes` → bytes, a rate of a `_total` → per second.
 */
export const UNITS = {
  seconds: "s",
  bytes: "bytes",
  ordersPerSecond: "ops",
  requestsPerSecond: "reqps",
  eventsPerSecond: "cps",
  count: "short",
  ratio: "percentunit",
  timestamp: "dateTimeFromNow",
} as const;
type Unit = (typeof UNITS)[keyof typeof UNITS];

export interface Target {
  expr: string;
  /** Legend template, e.g. `{{task}}`. */
  legend?: string;
}

/** A range query against the Surge datasource. */
function promQuery(target: Target, refId: string): DataqueryBuilder {
  const query = new DataqueryBuilder().datasource(DATASOURCE).refId(refId).expr(target.expr).range();
  return target.legend ? query.legendFormat(target.legend) : query;
}

/** `histogram_quantile` over a histogram's buckets, summed by `le` (and `by`, when given). */
export function histogramQuantile(
  quantile: number,
  buckets: string,
  options: { window?: string; by?: string } = {},
): string {
  const by = options.by ? `le, ${options.by}` : "le";
  return `histogram_quantile(${quantile}, sum by (${by}) (rate(${buckets}[${options.window ?? "$__rate_interval"}])))`;
}

/** One target per quantile, legend `p50`, `p99`… followed by `legendSuffix`. */
export function percentileTargets(
  quantiles: ReadonlyArray<number>,
  buckets: string,
  options: { window?: string; by?: string; legendSuffix?: string } = {},
): Target[] {
  return quantiles.map((q) => ({
    expr: histogramQuantile(q, buckets, options),
    legend: `p${Math.round(q * 100)}${options.legendSuffix ?? ""}`,
  }));
}

interface PanelCommon {
  /** Fixed per dashboard, so links and alert rules can point at a panel. */
  id: number;
  title: string;
  /** What the panel shows and how to read it: shown as the panel's (i) tooltip. */
  description: string;
  unit: Unit;
  targets: Target[];
  /** Grid width (of 24) and height. Default: 12 × 8 for a time series, a height of 4 for a stat. */
  w?: number;
  h?: number;
  /** Threshold steps above the base (green): colours the stat or draws dashed lines. */
  thresholds?: ReadonlyArray<{ value: number; color: "orange" | "red" }>;
}

/** What every panel sets first, in this order: id, texts, datasource, queries (refIds A, B, C…), unit, size. */
function withCommon<P extends TimeseriesPanelBuilder | StatPanelBuilder>(
  panel: P,
  options: PanelCommon & { w: number; h: number },
): P {
  panel
    .id(options.id)
    .title(options.title)
    .description(options.description)
    .datasource(DATASOURCE)
    .targets(options.targets.map((t, i) => promQuery(t, String.fromCharCode(65 + i))))
    .unit(options.unit)
    .span(options.w)
    .height(options.h);
  return panel;
}

function thresholdsOf(steps: PanelCommon["thresholds"]) {
  return new ThresholdsConfigBuilder()
    .mode(ThresholdsMode.Absolute)
    .steps([{ value: null, color: "green" }, ...(steps ?? []).map((s) => ({ value: s.value, color: s.color }))]);
}

/** A time series panel with the house defaults: table legend with last/max, multi tooltip, min 0. */
export function timeseries(
  options: PanelCommon & { stacked?: boolean; min?: number | null; axisLabel?: string },
): TimeseriesPanelBuilder {
  const panel = withCommon(new TimeseriesPanelBuilder(), { w: 12, h: 8, ...options })
    .lineWidth(1)
    .fillOpacity(options.stacked ? 30 : 10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(["lastNotNull", "max"]),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending),
    )
    .thresholds(thresholdsOf(options.thresholds))
    .thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(
        options.thresholds ? common.GraphThresholdsStyleMode.Dashed : common.GraphThresholdsStyleMode.Off,
      ),
    );
  if (options.min !== null) panel.min(options.min ?? 0);
  if (options.stacked) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (options.axisLabel) panel.axisLabel(options.axisLabel);
  return panel;
}

/** A single-number panel: the last value, coloured by thresholds, with a sparkline. */
export function stat(options: PanelCommon & { w: number; decimals?: number }): StatPanelBuilder {
  const panel = withCommon(new StatPanelBuilder(), { h: 4, ...options })
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .textMode(common.BigValueTextMode.Auto)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .thresholds(thresholdsOf(options.thresholds));
  if (options.decimals !== undefined) panel.decimals(options.decimals);
  return panel;
}

/** A row header; rows take ids from the same per-dashboard sequence as panels. */
export function row(id: number, title: string): RowBuilder {
  return new RowBuilder(title).id(id);
}

/**
 * A dashboard with the house settings: last 30 minutes refreshed every 10 s
 * (a flash sale is over in minutes), shared crosshair, read-only (the
 * generator is the source), and links to the other Surge boards.
 */
export function dashboard(options: { uid: string; title: string; description: string }): DashboardBuilder {
  return (
    new DashboardBuilder(options.title)
      .uid(options.uid)
      .description(options.description)
      .tags(["surge"])
      .readonly()
      .timezone("browser")
      .time({ from: "now-30m", to: "now" })
      .refresh("10s")
      .tooltip(DashboardCursorSync.Crosshair)
      // Grafana's own annotations, where the linked alert rules' state changes appear.
      .annotation(
        new AnnotationQueryBuilder()
          .name("Annotations & Alerts")
          .builtIn(1)
          .datasource({ type: "grafana", uid: "-- Grafana --" })
          .type("dashboard")
          .enable(true)
          .hide(true)
          .iconColor("rgba(0, 211, 255, 1)"),
      )
      .link(
        new DashboardLinkBuilder("Surge")
          .type(DashboardLinkType.Dashboards)
          .tags(["surge"])
          .asDropdown(false)
          .includeVars(false)
          .keepTime(true),
      )
  );
}

/** Renders a dashboard as the provisioned JSON file (stable key order, trailing newline). */
export function dashboardJson(builder: DashboardBuilder): string {
  return `${JSON.stringify(builder.build(), null, 2)}\n`;
}
