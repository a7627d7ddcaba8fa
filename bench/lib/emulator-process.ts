import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createAwsClients } from "@surge/core";
import { emulatorEnv } from "@surge/testing";

/**
 * fauxqs in its own process, as in `npm start` (and as SNS/SQS are on AWS):
 * a benchmark that ran the emulator on the server's event loop would measure
 * the emulator, not the server.
 */
export async function startEmulatorProcess() {
  const child = fork(fileURLToPath(new URL("./emulator-main.mjs", import.meta.url)), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (m: { port: number }) => resolve(m.port));
    child.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: "surge-bench", secretAccessKey: "surge-bench" };
  return {
    url,
    clients: createAwsClients({ endpoint: url, region: "us-east-1", credentials }),
    env: emulatorEnv(url, credentials),
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}
