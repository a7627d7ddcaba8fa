import { afterAll, afterEach, beforeAll } from "vitest";
import { type Broker, type BrokerName, type Emulator, startBroker, startEmulator } from "./harness.js";

type Cleanup = () => Promise<void> | void;

/** A list of clean-ups that runs after each test of the enclosing block, last added first. */
export function cleanupAfterEach(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}

/**
 * One emulator for the enclosing describe block, plus `cleanupAfterEach`. The emulator starts in
 * beforeAll, so read `suite.emulator` inside hooks and tests, not at collection time.
 */
export function emulatorSuite(): { readonly emulator: Emulator; cleanups: Cleanup[] } {
  let emulator: Emulator | undefined;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
  });
  const cleanups = cleanupAfterEach();
  return {
    get emulator() {
      if (!emulator) throw new Error("the emulator starts in beforeAll: read it inside a hook or a test");
      return emulator;
    },
    cleanups,
  };
}

/**
 * One broker (fauxqs or moto) for the enclosing describe block, plus `cleanupAfterEach`: a suite
 * that must hold on both runs under `describe.each(BROKERS)`. Read `suite.broker` inside hooks and tests.
 */
export function brokerSuite(name: BrokerName): { readonly broker: Broker; cleanups: Cleanup[] } {
  let broker: Broker | undefined;
  beforeAll(async () => {
    broker = await startBroker(name);
  });
  afterAll(async () => {
    await broker?.stop();
  });
  const cleanups = cleanupAfterEach();
  return {
    get broker() {
      if (!broker) throw new Error(`the ${name} broker starts in beforeAll: read it inside a hook or a test`);
      return broker;
    },
    cleanups,
  };
}
