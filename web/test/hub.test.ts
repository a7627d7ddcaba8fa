import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hub, HubMessage } from "../src/server/hub";

/**
 * The hub against a small stand-in for the API's /ops/stream: snapshots with
 * growing order counts, a scaling activity, tokens checked like the API does.
 */
const GOOD = "good-token-0123456789";
let server: Server;
let streams: ServerResponse[] = [];
let seconds = 0;
let HubClass: typeof Hub;

function snapshot() {
  seconds++;
  return {
    at: new Date(1_800_000_000_000 + seconds * 1000).toISOString(),
    queue: {
      visible: seconds * 10,
      inFlight: 5,
      delayed: 0,
      dlq: 0,
      oldestAgeSeconds: seconds,
      orders: { queued: seconds * 10, processing: 0, paid: seconds * 2, failed: 0, dead: 0 },
    },
    fleet: {
      desiredCount: 4,
      running: 1,
      pending: 3,
      stopping: 0,
      concurrency: 5,
      restarts: 0,
      tasks: [],
      controlledBy: "operator",
      maxTasks: 50,
      maxConcurrency: 200,
    },
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${GOOD}`) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":"no"}');
      return;
    }
    if (req.url === "/ops/stream") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      streams.push(res);
      const timer = setInterval(() => res.write(`event: state\ndata: ${JSON.stringify(snapshot())}\n\n`), 100);
      res.on("close", () => clearInterval(timer));
      return;
    }
    if (req.url?.startsWith("/ops/scaling-activities")) {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          activities: [
            {
              id: "act-1",
              at: new Date(1_800_000_000_000).toISOString(),
              actor: "operator",
              direction: "out",
              status: "successful",
              from: 1,
              to: 4,
              cause: "by hand",
              source: "local",
            },
          ],
        }),
      );
      return;
    }
    if (req.url?.startsWith("/ops/audit")) {
      const at = new Date(1_800_000_000_500).toISOString();
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          entries: [
            {
              id: "au-1",
              at,
              actor: "alice",
              action: "processing.target",
              before: { target: "workers" },
              after: { target: "lambda" },
            },
            {
              id: "au-2",
              at,
              actor: "bob",
              action: "dlq.redrive",
              before: { selected: "all" },
              after: { redriven: 24, skipped: 0 },
            },
            { id: "au-3", at, actor: "alice", action: "burst.start", after: { id: "b1" } },
          ],
        }),
      );
      return;
    }
    if (req.url?.startsWith("/ops/bursts")) {
      res.writeHead(200, { "content-type": "application/json" }).end('{"bursts":[]}');
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.env.SURGE_API_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  HubClass = (await import("../src/server/hub")).Hub;
});

afterAll(async () => {
  for (const s of streams) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function collect(hub: Hub, token: string) {
  const messages: HubMessage[] = [];
  const unsubscribe = hub.subscribe(token, (text) => {
    const data = /^data: (.*)$/m.exec(text)?.[1];
    if (data) messages.push(JSON.parse(data) as HubMessage);
  });
  return { messages, unsubscribe };
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("hub", () => {
  it("streams init then a tick per snapshot, with rates and scaling markers", async () => {
    const hub = new HubClass({ capacitySeconds: 3600 });
    const { messages, unsubscribe } = collect(hub, GOOD);
    try {
      expect(messages[0]?.type).toBe("init");
      await until(() => hub.timeline.length >= 4, "four points");
      const latest = hub.timeline.latest();
      // Every status counted: 10 more queued and 2 more paid per second is 12 accepted per second.
      expect(latest?.acceptPerSecond).toBe(12);
      expect(latest?.processPerSecond).toBe(2);
      expect(latest?.desiredTasks).toBe(4);
      expect(latest?.runningTasks).toBe(1);
      await until(() => hub.markers.some((m) => m.id === "activity:act-1"), "the scaling marker");
      expect(hub.markers[0]).toMatchObject({ kind: "scale-out", by: "operator", label: "scale 1 → 4" });
      // Operator actions from the audit log, with their actor; bursts come from their own log, once.
      expect(hub.markers).toContainEqual(
        expect.objectContaining({ id: "audit:au-1", kind: "routing", by: "alice", label: "route → lambda" }),
      );
      expect(hub.markers).toContainEqual(
        expect.objectContaining({ id: "audit:au-2", kind: "redrive", by: "bob", label: "redrive 24" }),
      );
      expect(hub.markers.some((m) => m.id === "audit:au-3")).toBe(false);
      const ticks = messages.filter((m) => m.type === "tick");
      expect(ticks.length).toBeGreaterThan(0);
      expect(hub.status.state).toBe("live");
      // The first paint gets the snapshot only while it is fresh.
      expect(hub.freshLatest()?.at).toBe(hub.latest?.at);
      expect(hub.freshLatest(-1)).toBeUndefined();
      // A browser that arrives later gets the history at once.
      const late = collect(hub, GOOD);
      const init = late.messages[0];
      expect(init?.type === "init" && init.columns.t.length).toBeGreaterThanOrEqual(4);
      late.unsubscribe();
    } finally {
      unsubscribe();
      hub.close();
    }
  });

  it("says the API refused a token, and streams with a good one from the next viewer", async () => {
    const hub = new HubClass({ capacitySeconds: 60 });
    const bad = collect(hub, "bad-token-0123456789");
    try {
      await until(() => hub.status.state === "down", "down");
      expect(hub.status.error).toMatch(/401/);
      const good = collect(hub, GOOD);
      await until(() => hub.status.state === "live" && hub.timeline.length > 0, "live with the good token");
      good.unsubscribe();
    } finally {
      bad.unsubscribe();
      hub.close();
    }
  });

  it("reconnects when the stream drops, keeping its history", async () => {
    const hub = new HubClass({ capacitySeconds: 3600, ownToken: GOOD });
    hub.start();
    try {
      await until(() => hub.timeline.length >= 3, "three points");
      const before = hub.timeline.length;
      for (const s of streams) s.destroy();
      streams = [];
      await until(() => hub.timeline.length >= before + 3, "points after the reconnect");
      expect(hub.status.state).toBe("live");
    } finally {
      hub.close();
    }
  });
});
