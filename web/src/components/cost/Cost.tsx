"use client";

import { STUDY_VOLUME_TABLES } from "@surge/core/cost";
import { useEffect, useState } from "react";
import { describeError, ops } from "../../client/ops-client";
import { useOps } from "../../client/use-ops";
import { cheaper, count, dateTime, num, seconds, usd } from "../../lib/format";
import type { BurstSummary, CostView, ObservedCostView } from "../../lib/ops";
import { Empty, ErrorBox, Loading, PageHead, Resource, Table, Tile } from "../ui";

/** The study's real-world volume table, by volume, for reference beside the model's figures. */
const STUDY_ROWS = new Map(STUDY_VOLUME_TABLES.realWorld.rows.map((row) => [row.ordersPerMonth, row]));

interface Inputs {
  ordersPerMonth: number;
  paymentDurationMs: number | "";
  memoryMb: number;
  freeTier: boolean;
  minTasks: number;
  slotsPerTask: number | "";
  taskVcpu: number;
  taskMemoryGb: number;
  hoursPerMonth: number;
}

const DEFAULTS: Inputs = {
  ordersPerMonth: 1_000_000,
  // Blank: the deployment's own PAYMENT_DURATION_MS and PAYMENT_SLOTS (the API fills them in).
  paymentDurationMs: "",
  memoryMb: 512,
  freeTier: true,
  minTasks: 2,
  slotsPerTask: "",
  taskVcpu: 0.25,
  taskMemoryGb: 0.5,
  hoursPerMonth: 720,
};

function query(inputs: Inputs, ordersPerMonth = inputs.ordersPerMonth): string {
  const p = new URLSearchParams();
  p.set("ordersPerMonth", String(ordersPerMonth));
  if (inputs.paymentDurationMs !== "") p.set("paymentDurationMs", String(inputs.paymentDurationMs));
  if (inputs.slotsPerTask !== "") p.set("slotsPerTask", String(inputs.slotsPerTask));
  p.set("memoryMb", String(inputs.memoryMb));
  p.set("freeTier", String(inputs.freeTier));
  p.set("minTasks", String(inputs.minTasks));
  p.set("taskVcpu", String(inputs.taskVcpu));
  p.set("taskMemoryGb", String(inputs.taskMemoryGb));
  p.set("hoursPerMonth", String(inputs.hoursPerMonth));
  return `/cost?${p.toString()}`;
}

/** The model for the inputs and for each of the study's volumes, re-asked (debounced) when an input changes. */
function useCostModel(inputs: Inputs) {
  const [state, setState] = useState<{ main?: CostView; table?: CostView[]; error?: unknown; loading: boolean }>({
    loading: true,
  });
  const key = JSON.stringify(inputs);
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by the inputs' value
  useEffect(() => {
    let cancelled = false;
    setState((s) => ({ ...s, loading: true }));
    const timer = window.setTimeout(async () => {
      try {
        const [main, ...table] = await Promise.all([
          ops.get<CostView>(query(inputs)),
          ...STUDY_VOLUME_TABLES.realWorld.rows.map((row) => ops.get<CostView>(query(inputs, row.ordersPerMonth))),
        ]);
        if (!cancelled) setState({ main, table, loading: false });
      } catch (error) {
        if (!cancelled) setState((s) => ({ ...s, error, loading: false }));
      }
    }, 250);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [key]);
  return state;
}

function ObservedCost() {
  const bursts = useOps<{ bursts: BurstSummary[] }>("/bursts?limit=20", 10_000);
  const finished = (bursts.data?.bursts ?? []).filter((b) => b.status !== "running");
  const [chosen, setChosen] = useState<string>();
  const burstId = chosen ?? finished[0]?.id;
  const observed = useOps<ObservedCostView>(
    burstId ? `/cost/observed?burstId=${encodeURIComponent(burstId)}` : null,
    10_000,
  );
  if (bursts.loading && !bursts.data) return <Loading />;
  if (bursts.error && !bursts.data)
    return <ErrorBox error={bursts.error} what="bursts" retry={() => void bursts.refresh()} />;
  if (!burstId)
    return <Empty>No finished burst yet: fire one on the Flash sale page, then its fleet is priced here.</Empty>;
  const burst = finished.find((b) => b.id === burstId);
  return (
    <div className="stack">
      <label className="field" style={{ maxWidth: 480 }}>
        <span>Burst</span>
        <select value={burstId} onChange={(e) => setChosen(e.target.value)}>
          {finished.map((b) => (
            <option key={b.id} value={b.id}>
              {dateTime(b.startedAt)} — {b.spec.mode},{" "}
              {b.spec.model === "users" ? `${b.spec.users} users` : `${b.spec.ratePerSecond}/s`}, {count(b.requests)}{" "}
              requests
            </option>
          ))}
        </select>
      </label>
      <Resource resource={observed} what="the observed cost">
        {(o) => {
          const lambda = o.lambda && !("error" in o.lambda) ? o.lambda : undefined;
          return (
            <>
              <div className="tiles" data-testid="observed-cost">
                <Tile
                  label="Fleet during the burst"
                  value={`${num(o.fargate.taskSeconds / 60)} task-min`}
                  hint={`${o.fargate.tasksAtStart} task(s) at start, ${o.fargate.scalingChanges} scaling change(s)`}
                />
                <Tile
                  label="Fargate cost"
                  value={usd(o.fargate.totalUsd)}
                  hint={`${o.fargate.taskSize.vcpu} vCPU / ${o.fargate.taskSize.memoryGb} GB tasks`}
                />
                {lambda && (
                  <Tile
                    label="Lambda cost"
                    value={usd(lambda.totalUsd)}
                    hint={`${count(lambda.invocations)} invocations, ${count(lambda.coldStarts)} cold`}
                  />
                )}
                {o.burstOrders && (
                  <>
                    <Tile
                      label="Per order on Fargate"
                      value={usd(o.burstOrders.fargateObservedPerOrderUsd)}
                      hint={
                        o.burstOrders.fargateObservedPerOrderUsd === null
                          ? "the workers paid none: Lambda did"
                          : `over ${count(o.burstOrders.paidByWorkers ?? o.burstOrders.orders)} orders the workers paid`
                      }
                      testId="observed-fargate-per-order"
                    />
                    <Tile
                      label="All on Lambda"
                      value={usd(o.burstOrders.onLambdaUsd)}
                      hint={`${count(o.burstOrders.orders)} orders, no free tier`}
                    />
                  </>
                )}
              </div>
              <p className="faint small">
                Window: {dateTime(o.window.sinceMs)} → {dateTime(o.window.untilMs)} (
                {seconds((o.window.untilMs - o.window.sinceMs) / 1000)}
                ), from the burst&apos;s start until now: a fleet left scaled out keeps costing after the burst ends.
                {burst && burst.status !== "completed" && ` The burst ended ${burst.status}.`}
                {o.lambda && "error" in o.lambda && ` Lambda figures unavailable: ${o.lambda.error}.`}
              </p>
            </>
          );
        }}
      </Resource>
    </div>
  );
}

export function Cost() {
  const [inputs, setInputs] = useState<Inputs>(DEFAULTS);
  const model = useCostModel(inputs);
  const set = (patch: Partial<Inputs>) => setInputs({ ...inputs, ...patch });
  const numberInput = (key: keyof Inputs, label: string, unit: string, placeholder?: string, step = 1) => (
    <label className="field">
      <span>
        {label} <span className="faint">({unit})</span>
      </span>
      <input
        type="number"
        name={`cost-${key}`}
        step={step}
        placeholder={placeholder}
        value={inputs[key] === "" ? "" : String(inputs[key])}
        onChange={(e) => set({ [key]: e.target.value === "" ? "" : Number(e.target.value) } as Partial<Inputs>)}
      />
    </label>
  );
  const m = model.main;
  return (
    <>
      <PageHead title="Cost" sub="Lambda vs Fargate with the study's prices, and what the last burst actually cost" />
      <section className="panel" aria-labelledby="model-title">
        <h2 id="model-title">Monthly cost model</h2>
        <div className="fields">
          {numberInput("ordersPerMonth", "Orders", "per month", undefined, 1000)}
          {numberInput("paymentDurationMs", "Payment", "ms", "as deployed", 100)}
          {numberInput("memoryMb", "Lambda memory", "MB", undefined, 64)}
          {numberInput("minTasks", "Fargate min tasks", "always on")}
          {numberInput("slotsPerTask", "Slots", "per task", "as deployed")}
          {numberInput("taskVcpu", "Task vCPU", "vCPU", undefined, 0.25)}
          {numberInput("taskMemoryGb", "Task memory", "GB", undefined, 0.5)}
          {numberInput("hoursPerMonth", "Month", "hours")}
          <label className="check" style={{ alignSelf: "end", minHeight: 36 }}>
            <input type="checkbox" checked={inputs.freeTier} onChange={(e) => set({ freeTier: e.target.checked })} />
            Lambda free tier
          </label>
        </div>
        <div className="row" style={{ marginTop: 8 }}>
          <button type="button" className="small" onClick={() => setInputs(DEFAULTS)}>
            The study&apos;s defaults
          </button>
          <span className="faint small">
            Prices: Lambda $0.20/M requests + $0.0000166667/GB-s; Fargate $0.04656/vCPU-h + $0.00511/GB-h (us-west-2,
            the study&apos;s).
          </span>
        </div>
        <div style={{ marginTop: 16 }}>
          {model.error && !m ? (
            <ErrorBox error={model.error} what="the cost model" />
          ) : !m ? (
            <Loading />
          ) : (
            <>
              {model.error ? (
                <div className="banner warning small" role="alert">
                  {describeError(model.error)}
                </div>
              ) : null}
              <div className="tiles" data-testid="cost-model">
                <Tile
                  label="Lambda"
                  value={usd(m.lambda.totalUsd)}
                  unit="/month"
                  hint={`${usd(m.lambda.requestsUsd)} requests + ${usd(m.lambda.computeUsd)} compute`}
                  severity="ok"
                />
                <Tile
                  label="Fargate"
                  value={usd(m.fargate.totalUsd)}
                  unit="/month"
                  hint={`${num(m.fargate.taskHours)} task-hours`}
                />
                <Tile
                  label="Cheaper"
                  value={cheaper(m.lambda.totalUsd, m.fargate.totalUsd).winner}
                  hint={`${cheaper(m.lambda.totalUsd, m.fargate.totalUsd).text} at ${count(m.input.ordersPerMonth)}/month`}
                  testId="cost-cheaper"
                />
                <Tile
                  label="Break-even"
                  value={m.breakEvenOrders === null ? "never" : count(m.breakEvenOrders)}
                  hint="orders/month above which Fargate wins"
                />
                <Tile label="Free tier covers" value={count(m.freeTierOrders)} hint="orders/month on Lambda" />
                <Tile
                  label="One task-hour"
                  value={usd(m.fargateTaskHourUsd)}
                  hint={`${m.input.taskSize.vcpu} vCPU + ${m.input.taskSize.memoryGb} GB`}
                />
              </div>
              <p className="faint small">
                Payment {num(m.input.paymentDurationMs)} ms, {m.input.slotsPerTask} slots per task. Fargate runs{" "}
                {m.input.minTasks} task(s) all month and scales out for exactly the work beyond them — a lower bound for
                bursty traffic.
              </p>
            </>
          )}
        </div>
        {model.table && (
          <Table
            label="Cost by monthly volume"
            columns={[
              { label: "Orders/month", num: true },
              { label: "Lambda (model)", num: true },
              { label: "Fargate (model)", num: true },
              { label: "Cheaper, by", num: true },
              { label: "Study: Lambda", num: true },
              { label: "Study: ECS", num: true },
            ]}
            style={{ marginTop: 12 }}
          >
            {model.table.map((row) => {
              const study = STUDY_ROWS.get(row.input.ordersPerMonth);
              const best = cheaper(row.lambda.totalUsd, row.fargate.totalUsd);
              return (
                <tr key={row.input.ordersPerMonth} data-testid="cost-row">
                  <td className="num">{count(row.input.ordersPerMonth)}</td>
                  <td className="num">{usd(row.lambda.totalUsd)}</td>
                  <td className="num">{usd(row.fargate.totalUsd)}</td>
                  <td className="num">{best.text}</td>
                  <td className="num faint" title={study?.lines}>
                    {study ? usd(study.lambdaUsd) : "—"}
                  </td>
                  <td className="num faint" title={study?.lines}>
                    {study ? (study.ecsText ?? usd(study.ecsUsd)) : "—"}
                  </td>
                </tr>
              );
            })}
          </Table>
        )}
      </section>
      <section className="panel" aria-labelledby="observed-title">
        <h2 id="observed-title">What the fleet cost in a burst</h2>
        <ObservedCost />
      </section>
    </>
  );
}
