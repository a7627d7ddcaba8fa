import { parseOrThrow } from "@surge/core";
import { z } from "zod";
import { PUBLISH_FAULTS_SETTING, type PublishFaults } from "../../outbox/fault-injecting-topic.js";
import { actorOf, type OpsModule } from "../context.js";

const schema = z.strictObject({
  /** Fail every SNS publish for this many seconds from now (0 ends it). */
  outageSeconds: z.int().min(0).max(3600),
});

function view(faults: PublishFaults) {
  const remainingMs = Math.max(0, (faults.outageUntilMs ?? 0) - Date.now());
  return {
    publishOutage: remainingMs > 0,
    publishOutageRemainingSeconds: Math.ceil(remainingMs / 1000),
    ...(remainingMs > 0 && { publishOutageUntil: new Date(faults.outageUntilMs ?? 0).toISOString() }),
  };
}

/**
 * Fault injection on the publish path (chaos runs, game days): `PUT /ops/faults/publish
 * {outageSeconds}` makes every API task's SNS publishes fail until then. Orders are still accepted
 * into the outbox; they reach the queue when the outage ends.
 */
export function publishFaultsModule(): OpsModule {
  return {
    name: "publish-faults",
    routes(router, ctx) {
      const read = async () => (await ctx.store.getSetting<PublishFaults>(PUBLISH_FAULTS_SETTING)) ?? {};
      ctx.state.register("publishFaults", async () => view(await read()));

      router.get("/faults/publish", async (_req, res) => {
        res.json(view(await read()));
      });

      router.put("/faults/publish", async (req, res) => {
        const parsed = { data: parseOrThrow(schema, req.body ?? {}, "publish fault") };
        const before = await read();
        const { outageSeconds } = parsed.data;
        const next: PublishFaults = outageSeconds === 0 ? {} : { outageUntilMs: Date.now() + outageSeconds * 1000 };
        await ctx.store.setSetting(PUBLISH_FAULTS_SETTING, next);
        await ctx.audit.record(actorOf(res), "faults.publish", { before: view(before), after: view(next) });
        res.json(view(next));
      });
    },
  };
}
