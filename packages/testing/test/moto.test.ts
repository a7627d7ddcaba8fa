import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateQueueCommand, ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../src/harness.js";
import { startMoto } from "../src/moto.js";

describe("startMoto", () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  it("answers AWS on loopback, forgets everything on reset, and stops", async () => {
    const moto = await startMoto();
    try {
      expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(moto.env).toMatchObject({ AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: "us-east-1" });
      const sqs = new SQSClient(moto.clientConfig);
      await sqs.send(new CreateQueueCommand({ QueueName: "kept-until-reset" }));
      expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls).toHaveLength(1);
      await moto.reset();
      expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? []).toEqual([]);
      sqs.destroy();
    } finally {
      await moto.stop();
    }
    await expect(fetch(`${moto.endpoint}/moto-api/`)).rejects.toThrow();
  });

  it("without moto_server on PATH, fails naming the package to install", async () => {
    // A PATH whose python3 still has moto, but no moto_server beside it.
    const dir = tempDir("surge-no-moto-server-");
    try {
      const python3 = join(dir.path, "python3");
      writeFileSync(python3, `#!/bin/sh\nPATH='${path}' exec python3 "$@"\n`);
      chmodSync(python3, 0o755);
      process.env.PATH = dir.path;
      await expect(startMoto()).rejects.toThrow(/moto_server could not start .*moto\[server\] 5\.2\.1/);
    } finally {
      dir.remove();
    }
  });
});
