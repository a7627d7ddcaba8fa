import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { OrderStore } from "@surge/core";
import { type ApiDeps, createApi } from "../src/app.js";

export { FakeTarget, ManualClock, seededRandom, settle } from "@surge/loadgen/testing";

import { burstsModule } from "../src/ops/modules/bursts.js";
import { OPS_TOKEN, silentLog } from "./helpers.js";

export const READ_ONLY_TOKEN = "test-read-only-token-0123456789";

/**
 * The API with the bursts module on a random port of 127.0.0.1, no queue (async
 * orders are recorded with their outbox rows): its own base URL is the only burst target.
 */
export async function startBurstApi(
  store: OrderStore,
  payment: ApiDeps["payment"] = { slots: 5, durationMs: 20, failureRate: 0 },
) {
  let ownBaseUrl = "";
  const module = burstsModule({ ownBaseUrl: () => ownBaseUrl, persistIntervalSeconds: 1 });
  const api = createApi({
    store,
    log: silentLog,
    opsTokens: [
      { token: OPS_TOKEN, label: "test-operator", role: "operator" },
      { token: READ_ONLY_TOKEN, label: "viewer", role: "read-only" },
    ],
    opsModules: [module],
    payment,
  });
  const server: Server = api.app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  ownBaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    api,
    module,
    server,
    url: ownBaseUrl,
    async close() {
      await api.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
