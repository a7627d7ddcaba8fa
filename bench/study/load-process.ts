/**
 * The study's load generator in a process of its own, as Locust ran on its own machine, so the emulator
 * and the queue sampler never delay the answers it times. Receives `{apiUrl, spec}`; sends "started", then the stats.
 */
import type { BurstStats, UsersBurstSpec } from "@surge/loadgen";
import { Burst, HttpOrderTarget } from "@surge/loadgen";

export type LoadMessage = { type: "started" } | { type: "done"; stats: BurstStats } | { type: "failed"; error: string };

process.once("message", (msg: { apiUrl: string; spec: UsersBurstSpec }) => {
  const send = (m: LoadMessage) => new Promise<void>((resolve) => process.send?.(m, () => resolve()));
  const burst = new Burst({
    spec: msg.spec,
    target: new HttpOrderTarget(msg.apiUrl, { userAgent: "surge-study" }),
    targetUrl: msg.apiUrl,
    startedBy: "study",
  });
  void send({ type: "started" });
  burst
    .start()
    .then((stats) => send({ type: "done", stats }))
    .catch((error: unknown) => send({ type: "failed", error: String(error) }))
    .finally(() => process.exit(0));
});
