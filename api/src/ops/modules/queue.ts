import {
  type DeadLetter,
  errorMessage,
  type Logger,
  type OrderQueue,
  type OrderStore,
  parseOrThrow,
} from "@surge/core";
import { z } from "zod";
import { actorOf, type OpsModule } from "../context.js";

interface QueueModuleOptions {
  queue: OrderQueue;
  store: OrderStore;
  log: Logger;
  /** Wakes the outbox relay so redriven orders are published at once. */
  onRequeued?: () => void;
  /** How often the DLQ is swept for orders SQS moved there itself, in ms. Default 30000; 0 disables. */
  sweepIntervalMs?: number;
}

const redriveSchema = z.strictObject({
  orderIds: z.array(z.string().min(1).max(64)).min(1).max(1000).optional(),
});
const purgeSchema = z.strictObject({
  confirm: z.literal("purge", { error: 'must be the word "purge"' }),
  queue: z.enum(["orders", "dlq"]).default("orders"),
});

/**
 * The queue and its DLQ: depth, dead letters with their reasons, redrive and purge. Redrive goes
 * through the outbox, so the store and the queue never disagree about what was redriven.
 */
export function queueModule(options: QueueModuleOptions): OpsModule {
  const { queue, store, log } = options;
  let sweeper: NodeJS.Timeout | undefined;

  /** Orders SQS moved to the DLQ itself (their task died every time) are marked dead, with that reason. */
  const explainDeadLetters = async (letters: ReadonlyArray<DeadLetter>) => {
    for (const letter of letters) {
      if (!letter.orderId) continue;
      const order = await store.getOrder(letter.orderId);
      if (order && order.status !== "dead" && order.status !== "paid") {
        await store.markDead(letter.orderId, letter.reason);
      }
    }
  };

  return {
    name: "queue",
    routes(router, ctx) {
      ctx.state.register("queue", async () => {
        const [depth, dlq, byStatus, lambdaStatus, oldestAgeSeconds, outbox] = await Promise.all([
          queue.depth(),
          queue.depth(queue.dlqUrl),
          store.countByStatus(),
          store.countByStatus("lambda"),
          store.oldestWaitingAgeSeconds(),
          store.outboxStats(),
        ]);
        const waiting = (c: typeof byStatus) => c.queued + c.failed;
        return {
          // As SQS reports them (approximate; the emulator refreshes them on receive).
          visible: depth.visible,
          inFlight: depth.inFlight,
          delayed: depth.delayed,
          dlq: dlq.visible + dlq.inFlight,
          // Exact, from the order store, every platform the orders were routed to.
          oldestAgeSeconds,
          backlog: waiting(byStatus),
          // The same backlog split by where the orders were published (workers includes unpublished ones).
          byPlatform: {
            workers: {
              waiting: waiting(byStatus) - waiting(lambdaStatus),
              processing: byStatus.processing - lambdaStatus.processing,
            },
            lambda: { waiting: waiting(lambdaStatus), processing: lambdaStatus.processing },
          },
          orders: byStatus,
          outboxPending: outbox.pending,
        };
      });

      // Rates over a short sliding window and end-to-end latency over the last minute, exact from
      // the store: every task's and Lambda's payments count, wherever they ran.
      const RATE_WINDOW_MS = 10_000;
      const LATENCY_WINDOW_MS = 60_000;
      ctx.state.register("rates", async () => {
        const activity = await store.activitySince(Date.now() - RATE_WINDOW_MS, 1);
        return {
          windowSeconds: RATE_WINDOW_MS / 1000,
          acceptedPerSecond: activity.accepted / (RATE_WINDOW_MS / 1000),
          processedPerSecond: activity.paid / (RATE_WINDOW_MS / 1000),
        };
      });
      ctx.state.register("latency", async () => {
        const { endToEndMs } = await store.activitySince(Date.now() - LATENCY_WINDOW_MS);
        const sorted = [...endToEndMs].sort((a, b) => a - b);
        const at = (p: number) =>
          sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) / 1000;
        return {
          windowSeconds: LATENCY_WINDOW_MS / 1000,
          samples: sorted.length,
          endToEndP50Seconds: at(0.5),
          endToEndP99Seconds: at(0.99),
          endToEndMaxSeconds: sorted.length === 0 ? null : (sorted.at(-1) ?? 0) / 1000,
        };
      });

      router.get("/dlq", async (req, res) => {
        const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 100) || 100));
        const letters = await queue.peekDlq(limit);
        await explainDeadLetters(letters);
        const messages = await Promise.all(
          letters.map(async ({ receiptHandle: _hidden, ...letter }) => {
            const order = letter.orderId ? await store.getOrder(letter.orderId) : undefined;
            return {
              ...letter,
              ...(order && {
                order: {
                  status: order.status,
                  customerId: order.customerId,
                  totalCents: order.totalCents,
                  attempts: order.attempts,
                  acceptedAt: order.acceptedAt,
                  lastError: order.lastError,
                },
              }),
            };
          }),
        );
        const counts = await store.countByStatus();
        res.json({ count: messages.length, deadOrders: counts.dead, messages });
      });

      router.post("/dlq/redrive", async (req, res) => {
        const { orderIds } = parseOrThrow(redriveSchema, req.body ?? {}, "redrive");
        const wanted = orderIds ? new Set(orderIds) : undefined;
        let skipped: Array<{ messageId: string; reason: string }> = [];
        const scan = await queue.scanDlq(1000);
        const deleted = new Set<string>();
        let requeued: Set<string>;
        try {
          await explainDeadLetters(scan.letters);
          const selected = scan.letters.filter((l) => !wanted || (l.orderId && wanted.has(l.orderId)));
          skipped = selected
            .filter((l) => !l.orderId)
            .map((l) => ({ messageId: l.messageId, reason: `no order in the message: ${l.reason}` }));
          // All dead orders when no ids are given, with or without a DLQ message.
          requeued = new Set(await store.requeueDead(orderIds));
          for (const letter of selected) {
            if (!letter.orderId) continue;
            const order = await store.getOrder(letter.orderId);
            // Requeued now, or already paid (a stale copy): either way this dead letter has done its job.
            if (requeued.has(letter.orderId) || order?.status === "paid") {
              try {
                await queue.deleteFromDlq(letter.receiptHandle);
                deleted.add(letter.receiptHandle);
              } catch (error) {
                log.warn("could not delete a redriven dead letter", { error: errorMessage(error) });
              }
            }
          }
        } finally {
          await scan.release(deleted);
        }
        options.onRequeued?.();
        const redriven = [...requeued];
        await ctx.audit.record(actorOf(res), "dlq.redrive", {
          before: { selected: orderIds ?? "all" },
          after: { redriven: redriven.length, skipped: skipped.length },
        });
        res.json({ redriven: redriven.length, orderIds: redriven, skipped });
      });

      router.post("/queue/purge", async (req, res) => {
        const body = parseOrThrow(purgeSchema, req.body ?? {}, "purge");
        const actor = actorOf(res);
        const before = await (body.queue === "dlq" ? queue.depth(queue.dlqUrl) : queue.depth());
        await queue.purge(body.queue);
        // Purged orders are not silently lost: they become dead, explained, and redrivable.
        const markedDead =
          body.queue === "orders"
            ? await store.markWaitingDead(`purged from the queue by ${actor.label} at ${new Date().toISOString()}`)
            : [];
        await ctx.audit.record(actor, `queue.purge.${body.queue}`, {
          before: { visible: before.visible, inFlight: before.inFlight },
          after: { visible: 0, ordersMarkedDead: markedDead.length },
        });
        res.json({ purged: body.queue, messagesBefore: before.visible, ordersMarkedDead: markedDead.length });
      });

      const interval = options.sweepIntervalMs ?? 30_000;
      if (interval > 0) {
        sweeper = setInterval(() => {
          queue
            .peekDlq(1000)
            .then(explainDeadLetters)
            .catch((error: unknown) => log.warn("DLQ sweep failed", { error: errorMessage(error) }));
        }, interval);
        sweeper.unref();
      }
    },
    async close() {
      if (sweeper) clearInterval(sweeper);
    },
  };
}
