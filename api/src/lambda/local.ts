import { errorMessage } from "@surge/core";
import {
  type LambdaInsights,
  type LambdaLive,
  type LambdaReportView,
  type LambdaSummary,
  LambdaUnavailableError,
  type SummaryWindow,
} from "./insights.js";

interface LocalLambdaInsightsOptions {
  /** The stack runner's Lambda control endpoint (LAMBDA_CONTROL_URL), e.g. http://127.0.0.1:4581. */
  controlUrl: string;
  /** Per-request timeout, in ms. Default 2000. */
  timeoutMs?: number;
}

/** The control endpoint's shapes (infra/lambda-runtime/src/control.ts). */
interface ControlState {
  function: {
    name: string;
    memoryMb: number;
    timeoutSeconds: number;
    reservedConcurrency: number;
    idleTimeoutSeconds: number;
  };
  /** Absent from runtimes older than provisioned concurrency. */
  provisionedConcurrency?: { configured: number; base: number; ready: number; initializing: number };
  concurrentExecutions: number;
  environments: { idle: number; busy: number; list?: Array<{ state: string }> };
  totals: { invocations: number; cold: number; warm: number; provisioned?: number; errors: number; throttles: number };
  async: { pending: number };
}

/** A REPORT line as the runtime keeps it: when it ended rather than an ISO time, and always an outcome. */
type ControlReport = Omit<LambdaReportView, "at" | "outcome"> & { endedAtMs: number; outcome: "success" | "error" };

/**
 * The local runtime, read over its loopback control endpoint. The runtime
 * lives in the stack-runner process, so the API can restart without losing
 * an environment or a figure.
 */
export class LocalLambdaInsights implements LambdaInsights {
  readonly source = "local" as const;
  #functionName = "surge-orders";

  constructor(readonly options: LocalLambdaInsightsOptions) {}

  get functionName(): string {
    return this.#functionName;
  }

  async live(): Promise<LambdaLive> {
    const s = await this.#get<ControlState>("/v1/state");
    this.#functionName = s.function.name;
    return {
      source: "local",
      functionName: s.function.name,
      memoryMb: s.function.memoryMb,
      timeoutSeconds: s.function.timeoutSeconds,
      reservedConcurrency: s.function.reservedConcurrency,
      idleTimeoutSeconds: s.function.idleTimeoutSeconds,
      concurrentExecutions: s.concurrentExecutions,
      environments: {
        idle: s.environments.idle,
        busy: s.environments.busy,
        ...(s.environments.list && {
          starting: s.environments.list.filter((e) => e.state === "initializing").length,
        }),
      },
      invocations: s.totals.invocations,
      coldStarts: s.totals.cold,
      warmStarts: s.totals.warm,
      ...(s.provisionedConcurrency && {
        provisioned: {
          configured: s.provisionedConcurrency.configured,
          ready: s.provisionedConcurrency.ready,
          invocations: s.totals.provisioned ?? 0,
        },
      }),
      errors: s.totals.errors,
      throttles: s.totals.throttles,
      pendingEvents: s.async.pending,
      period: "since-start",
    };
  }

  async summary(window: SummaryWindow): Promise<LambdaSummary> {
    const query = new URLSearchParams({
      sinceMs: String(Math.trunc(window.sinceMs)),
      untilMs: String(Math.trunc(window.untilMs)),
      binSeconds: String(window.binSeconds ?? 300),
    });
    const summary = await this.#get<Omit<LambdaSummary, "source" | "functionName">>(`/v1/summary?${query}`);
    return { source: "local", functionName: this.#functionName, ...summary };
  }

  async recentReports(limit: number): Promise<LambdaReportView[]> {
    const { reports } = await this.#get<{ reports: ControlReport[] }>(`/v1/reports?limit=${Math.trunc(limit)}`);
    return reports.map((r) => ({
      requestId: r.requestId,
      at: new Date(r.endedAtMs).toISOString(),
      start: r.start,
      ...(r.initializationType && { initializationType: r.initializationType }),
      durationMs: r.durationMs,
      billedDurationMs: r.billedDurationMs,
      ...(r.initDurationMs !== undefined && { initDurationMs: r.initDurationMs }),
      memorySizeMb: r.memorySizeMb,
      maxMemoryUsedMb: r.maxMemoryUsedMb,
      outcome: r.outcome,
      line: r.line,
    }));
  }

  /**
   * Sets the runtime's provisioned concurrency (a sale window's start), or with null returns it to
   * the runtime's own LAMBDA_PROVISIONED_CONCURRENCY (its end). Resolves once the runtime took it;
   * its environments then initialise in the background.
   */
  async setProvisionedConcurrency(value: number | null): Promise<{ configured: number; base: number }> {
    return this.#get("/v1/provisioned-concurrency", {
      method: value === null ? "DELETE" : "PUT",
      ...(value !== null && {
        body: JSON.stringify({ provisionedConcurrency: value }),
        headers: { "content-type": "application/json" },
      }),
    });
  }

  async #get<T>(path: string, init: RequestInit = {}): Promise<T> {
    const url = new URL(path, this.options.controlUrl);
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(this.options.timeoutMs ?? 2000) });
    } catch (error) {
      throw new LambdaUnavailableError(
        `the local Lambda runtime at ${this.options.controlUrl} did not answer: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    if (!response.ok) {
      const detail = await response
        .json()
        .then((b) => ((b as { message?: string })?.message ? `: ${(b as { message: string }).message}` : ""))
        .catch(() => "");
      throw new LambdaUnavailableError(
        `the local Lambda runtime answered ${response.status} for ${url.pathname}${detail}`,
      );
    }
    return (await response.json()) as T;
  }
}
