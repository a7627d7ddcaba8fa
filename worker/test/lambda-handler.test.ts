import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  parseOrderMessage as coreParseOrderMessage,
  createLogger,
  type OrderStore,
  PaymentProcessor,
  type ValidationError,
} from "@surge/core";
import { acceptOrderInStore, cleanupAfterEach, tempDir, tempPostgresStore, tempSqliteStore } from "@surge/testing";
import type { Context, SNSEvent, SQSEvent, SQSRecord } from "aws-lambda";
import { describe, expect, inject, it } from "vitest";
import { safeParse } from "zod/mini";
import { buildLambdaBundle } from "../src/lambda/build.js";
import { LAMBDA_ENV_VARS } from "../src/lambda/config.js";
import { lambdaEnvSchema, loadLambdaEnv } from "../src/lambda/env.js";
import { createLambdaHandlers, OrderProcessingError, unwrapSnsEnvelope } from "../src/lambda/handler.js";
import { parseOrderMessage } from "../src/lambda/message.js";

const log = createLogger({ service: "test" }, { write: () => {} });
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function context(remainingMs = 30_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "surge-orders",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:surge-orders",
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: "/aws/lambda/surge-orders",
    logStreamName: "test",
    getRemainingTimeInMillis: () => remainingMs,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

const orderMessage = (orderId: string) => JSON.stringify({ orderId, acceptedAt: new Date().toISOString() });

function snsEvent(message: string, messageId: string = randomUUID()): SNSEvent {
  return {
    Records: [
      {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: "arn:aws:sns:us-east-1:000000000000:orders:sub",
        Sns: {
          Type: "Notification",
          MessageId: messageId,
          TopicArn: "arn:aws:sns:us-east-1:000000000000:orders",
          Message: message,
          Timestamp: new Date().toISOString(),
          SignatureVersion: "1",
          Signature: "EXAMPLE",
          SigningCertUrl: "",
          UnsubscribeUrl: "",
          MessageAttributes: { target: { Type: "String", Value: "lambda" } },
        },
      },
    ],
  };
}

function sqsRecord(body: string, receiveCount = 1): SQSRecord {
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: "test",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:orders",
    awsRegion: "us-east-1",
  };
}

const acceptOrder = async (store: OrderStore) => (await acceptOrderInStore(store)).orderId;

const backends: Array<[string, () => { store: OrderStore; remove(): Promise<void> }]> = [
  ["SQLite", () => tempSqliteStore()],
  ["PostgreSQL", () => tempPostgresStore(inject("postgresUrl"))],
];

describe.each(backends)("Lambda handlers on %s", (_name, open) => {
  const cleanups = cleanupAfterEach();

  function setup(payment: { durationMs?: number; failureRate?: number; random?: () => number } = {}) {
    const t = open();
    cleanups.push(t.remove);
    const payments = new PaymentProcessor({
      slots: 5,
      durationMs: payment.durationMs ?? 20,
      failureRate: payment.failureRate ?? 0,
      processorId: "lambda:test",
      ledger: t.store,
      ...(payment.random && { random: payment.random }),
    });
    const handlers = createLambdaHandlers({ store: t.store, payments, log, leaseMs: 30_000, maxReceiveCount: 3 });
    return { store: t.store, ...handlers };
  }

  it("pays an order from an SNS event, and acknowledges a redelivery without charging again", async () => {
    const { store, snsHandler } = setup();
    const orderId = await acceptOrder(store);
    const event = snsEvent(orderMessage(orderId));
    await snsHandler(event, context());
    await snsHandler(event, context());
    await snsHandler(snsEvent(orderMessage(orderId)), context());
    expect((await store.getOrder(orderId))?.status).toBe("paid");
    const r = await store.reconcile();
    expect(r.charges).toBe(1);
    expect(r.paidTwice).toBe(0);
  });

  it("lets the retry of a delivery whose environment died mid-payment take its lease back and pay once", async () => {
    const { store, snsHandler } = setup();
    const orderId = await acceptOrder(store);
    const messageId = randomUUID();
    // The first attempt claimed the order and its process died: the lease is held for 30 s more.
    await store.claimOrder(orderId, `lambda:${messageId}`, 30_000);
    // Another delivery of the same order (a republish) must not pay while that lease holds.
    await expect(snsHandler(snsEvent(orderMessage(orderId)), context())).rejects.toBeInstanceOf(OrderProcessingError);
    expect((await store.reconcile()).charges).toBe(0);
    // The platform's retry of the same delivery resumes at once.
    await snsHandler(snsEvent(orderMessage(orderId), messageId), context());
    expect((await store.getOrder(orderId))?.status).toBe("paid");
    expect((await store.reconcile()).charges).toBe(1);
  });

  it("drops what no retry can fix: an unknown order, a body that is not an order message", async () => {
    const { store, snsHandler, handleOrderMessage } = setup();
    await expect(snsHandler(snsEvent(orderMessage("no-such-order")), context())).resolves.toBeUndefined();
    await expect(snsHandler(snsEvent("%% not json"), context())).resolves.toBeUndefined();
    expect(await handleOrderMessage('{"orderId": 5}', "lambda:x", context())).toMatchObject({ outcome: "rejected" });
    expect((await store.reconcile()).charges).toBe(0);
  });

  it("throws on a declined payment so the platform retries, leaving the order failed", async () => {
    const { store, snsHandler } = setup({ failureRate: 1, random: () => 0 });
    const orderId = await acceptOrder(store);
    const error = await snsHandler(snsEvent(orderMessage(orderId)), context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderProcessingError);
    expect((error as OrderProcessingError).failures).toEqual([
      expect.objectContaining({ orderId, outcome: "failed", error: expect.stringMatching(/declined/) }),
    ]);
    expect(await store.getOrder(orderId)).toMatchObject({ status: "failed", attempts: 1 });
  });

  it("hands an order back untouched before the invocation's deadline instead of being cut off", async () => {
    const { store, snsHandler } = setup({ durationMs: 5_000 });
    const orderId = await acceptOrder(store);
    const started = Date.now();
    // 700 ms left, 500 ms kept back: the payment is abandoned after ~200 ms.
    await expect(snsHandler(snsEvent(orderMessage(orderId)), context(700))).rejects.toThrow(/deadline/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await store.getOrder(orderId))?.status).toBe("queued");
    expect((await store.reconcile()).charges).toBe(0);
  });

  it("answers an SQS batch with only the records that failed, and marks an order dead on its last receive", async () => {
    const { store, sqsHandler } = setup();
    const paid = await acceptOrder(store);
    const busy = await acceptOrder(store);
    const wrapped = await acceptOrder(store);
    // Another holder has `busy` leased: its record fails (retryable) while the rest of the batch pays.
    await store.claimOrder(busy, "lambda:someone-else", 30_000);
    const busyRecord = sqsRecord(orderMessage(busy));
    // An SNS envelope (raw delivery off) around the third order.
    const envelope = JSON.stringify({ Type: "Notification", MessageId: "m", Message: orderMessage(wrapped) });
    const batch = await sqsHandler(
      { Records: [sqsRecord(orderMessage(paid)), busyRecord, sqsRecord(envelope)] } as SQSEvent,
      context(),
    );
    expect(batch.batchItemFailures).toEqual([{ itemIdentifier: busyRecord.messageId }]);
    expect((await store.getOrder(paid))?.status).toBe("paid");
    expect((await store.getOrder(wrapped))?.status).toBe("paid");
    expect((await store.getOrder(busy))?.status).toBe("processing");

    // The queue's last receive (maxReceiveCount 3): still reported, and the store says why it is dead.
    const last = sqsRecord(orderMessage(busy), 3);
    const final = await sqsHandler({ Records: [last] } as SQSEvent, context());
    expect(final.batchItemFailures).toEqual([{ itemIdentifier: last.messageId }]);
    expect(await store.getOrder(busy)).toMatchObject({
      status: "dead",
      lastError: expect.stringMatching(/gave up after 3 receives: .*processed elsewhere/),
    });
    expect((await store.reconcile()).charges).toBe(2);
  });
});

describe("Lambda message and configuration parsing", () => {
  it("parses order messages exactly as core does (without zod, same bounds, same errors)", () => {
    const bodies = [
      orderMessage("a"),
      JSON.stringify({ orderId: "x".repeat(64), acceptedAt: "t" }),
      JSON.stringify({ orderId: "x".repeat(65), acceptedAt: "t" }),
      JSON.stringify({ orderId: "", acceptedAt: "t" }),
      JSON.stringify({ orderId: 5, acceptedAt: "t" }),
      JSON.stringify({ orderId: "a" }),
      JSON.stringify({ orderId: "a", acceptedAt: "t", extra: true }),
      JSON.stringify({ orderId: "é".repeat(64), acceptedAt: "t" }),
      JSON.stringify({ orderId: "a", acceptedAt: 5 }),
      JSON.stringify({ orderId: null, acceptedAt: null }),
      JSON.stringify([{ orderId: "a", acceptedAt: "t" }]),
      JSON.stringify("a string"),
      "not json",
      "",
      "null",
      "42",
    ];
    const outcome = (parse: (b: string) => unknown, body: string) => {
      try {
        return { ok: parse(body) };
      } catch (error) {
        const { name, message, details } = error as ValidationError;
        return { error: name, message, details };
      }
    };
    for (const body of bodies) {
      expect(outcome(parseOrderMessage, body), body).toEqual(outcome(coreParseOrderMessage, body));
    }
  });

  it("unwraps SNS envelopes and leaves raw bodies alone", () => {
    const inner = orderMessage("o1");
    expect(unwrapSnsEnvelope(JSON.stringify({ Type: "Notification", Message: inner }))).toBe(inner);
    expect(unwrapSnsEnvelope(inner)).toBe(inner);
    expect(unwrapSnsEnvelope('{"Type":"Notification", broken')).toBe('{"Type":"Notification", broken');
  });

  it("reads each variable as the CDK app's zod schema does: same values accepted, same defaults", () => {
    const values = [
      undefined,
      "",
      " ",
      "abc",
      "0",
      "1",
      "-1",
      "1.5",
      " 7 ",
      "1e3",
      "0x10",
      "Infinity",
      "NaN",
      "999",
      "1000",
      "1001",
      "600000",
      "600001",
      "900000",
      "900001",
      "9007199254740993",
      "0.5",
      "1.01",
      "debug",
      "DEBUG",
      "error",
      "postgres://u@h/db",
      "postgresql://h/db",
      "mysql://h/db",
      "./var",
      `x${"y".repeat(300)}`,
    ];
    for (const name of Object.keys(LAMBDA_ENV_VARS)) {
      for (const value of values) {
        const env = value === undefined ? {} : { [name]: value };
        const zod = safeParse(lambdaEnvSchema, env);
        let ours: unknown;
        try {
          ours = (loadLambdaEnv(env) as Record<string, unknown>)[name];
        } catch {
          ours = "refused";
        }
        const expected = zod.success ? (zod.data as Record<string, unknown>)[name] : "refused";
        expect(ours, `${name}=${JSON.stringify(value)}`).toEqual(expected);
      }
    }
  });

  it("reads the function's configuration with the shared defaults, and names a bad variable", () => {
    const env = loadLambdaEnv({ DATABASE_URL: "" });
    expect(env).toMatchObject({
      PAYMENT_DURATION_MS: 3000,
      PAYMENT_SLOTS: 5,
      PAYMENT_FAILURE_RATE: 0,
      MAX_RECEIVE_COUNT: 5,
      LAMBDA_LEASE_MS: 30_000,
      AWS_LAMBDA_FUNCTION_NAME: "surge-orders",
    });
    expect(() => loadLambdaEnv({ PAYMENT_SLOTS: "0", DATABASE_URL: "mysql://x" })).toThrow(
      /PAYMENT_SLOTS[\s\S]*DATABASE_URL/,
    );
  });
});

describe("the Lambda bundle", () => {
  it("exports both handlers, loads nothing at init it does not run, and only Node's built-ins statically", async () => {
    const dir = tempDir("surge-lambda-bundle-");
    try {
      const outfile = join(dir.path, "lambda.js");
      const result = await buildLambdaBundle(outfile, { metafile: true });
      const metafile = result.metafile;
      if (!metafile) throw new Error("no metafile");
      const inputs = Object.keys(metafile.inputs);
      const output = Object.entries(metafile.outputs).find(([file]) => file.endsWith(".js"))?.[1];
      expect(output?.exports).toEqual(expect.arrayContaining(["snsHandler", "sqsHandler"]));
      // No AWS SDK (the platform deletes and retries), no metrics, no zod (config.ts and message.ts read
      // their two inputs by hand).
      expect(inputs.filter((p) => /@aws-sdk|@smithy|prom-client|node_modules\/zod\//.test(p))).toEqual([]);
      // Each store is loaded only when the configuration asks for it: one dynamic import each, nothing static.
      for (const store of ["postgres", "sqlite"]) {
        const path = relative(repoRoot, join(repoRoot, `packages/core/src/store/${store}.ts`));
        const importers = Object.entries(metafile.inputs).flatMap(([file, input]) =>
          input.imports.filter((i) => i.path === path).map((i) => ({ file: relative(repoRoot, file), kind: i.kind })),
        );
        expect(importers, store).toEqual([{ file: "worker/src/lambda/index.ts", kind: "dynamic-import" }]);
      }
      // Lambda's runtime resolves Node's built-ins and nothing else the zip does not carry.
      const text = readFileSync(outfile, "utf8");
      const staticImports = [...text.matchAll(/(?:^|;)\s*import\s*(?:[^"'();]*?\s*from\s*)?["']([^"']+)["']/g)].map(
        (m) => m[1],
      );
      expect(staticImports.filter((s) => !s?.startsWith("node:"))).toEqual([]);
      // better-sqlite3's JavaScript is bundled, reached only through the SQLite store; its addon is
      // required by its one path, not searched for by `bindings`.
      expect(inputs.filter((p) => p.endsWith("node_modules/better-sqlite3/lib/database.js"))).toHaveLength(1);
      expect(inputs.filter((p) => /node_modules\/bindings\//.test(p))).toEqual([]);
      expect(text).toMatch(/"better-sqlite3\/build\/Release\/"/);
      // node-postgres is built for Node.js: no run-time test for a Cloudflare Worker (it loaded undici).
      expect(text).not.toMatch(/Cloudflare-Workers|new Response\(/);
    } finally {
      dir.remove();
    }
  });
});
