import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { errorMessage, openOrderStore, type Reconciliation } from "@surge/core";
import { loadCliEnv } from "./env.js";

const USAGE = `Audit every order: accepted vs paid vs dead vs still in progress, and payments per order.

  npm run audit:orders                       # through the running API (GET /ops/orders/reconcile)
  npm run audit:orders -- --data-dir ./var   # straight from the store (the API may be down)

Options:
      --url URL            the API                          [$SURGE_API_URL or http://127.0.0.1:8080]
      --token T            operator token (read-only will do) [$OPS_TOKEN]
      --data-dir DIR       read the embedded SQLite store in DIR instead of asking the API
      --database-url URL   read this PostgreSQL store instead of asking the API
      --settled            also fail while orders are still in progress (after a run has drained)
      --json               print the reconciliation as JSON
  -h, --help

Exit codes: 0 every order accounted for, 1 an order paid twice, paid without a charge, dead
without a reason (or, with --settled, still in progress), 2 bad arguments, 3 nothing to read.`;

/** What the audit concludes from one reconciliation. */
export interface AuditVerdict {
  ok: boolean;
  /** Every accepted order has ended: paid or dead. */
  settled: boolean;
  problems: string[];
}

export function auditVerdict(r: Reconciliation): AuditVerdict {
  const problems: string[] = [];
  if (r.paidTwice > 0) problems.push(`${r.paidTwice} order(s) paid more than once`);
  if (r.paidWithoutCharge > 0) problems.push(`${r.paidWithoutCharge} order(s) marked paid with no charge`);
  if (r.deadUnexplained > 0) problems.push(`${r.deadUnexplained} dead order(s) without a reason`);
  const accounted = r.byStatus.paid + r.byStatus.dead + r.inProgress;
  if (accounted !== r.accepted) problems.push(`${r.accepted - accounted} order(s) in no known state`);
  return { ok: problems.length === 0, settled: r.inProgress === 0 && r.outboxPending === 0, problems };
}

export function formatAudit(r: Reconciliation, verdict = auditVerdict(r)): string {
  const row = (label: string, value: number | string) => `  ${label.padEnd(26)} ${value}`;
  return [
    row("orders accepted", r.accepted),
    row("paid", r.byStatus.paid),
    row("dead (explained)", `${r.byStatus.dead - r.deadUnexplained}`),
    row("dead without a reason", r.deadUnexplained),
    row(
      "still in progress",
      `${r.inProgress} (queued ${r.byStatus.queued}, processing ${r.byStatus.processing}, failed ${r.byStatus.failed})`,
    ),
    row("outbox rows not yet published", r.outboxPending),
    row("charges in the ledger", r.charges),
    row("orders paid twice", r.paidTwice),
    row("paid without a charge", r.paidWithoutCharge),
    "",
    verdict.ok
      ? `  OK: every order is accounted for${verdict.settled ? " and settled" : ""}`
      : `  FAILED: ${verdict.problems.join("; ")}`,
  ].join("\n");
}

class AuditUnavailableError extends Error {
  override readonly name = "AuditUnavailableError";
}

/** The reconciliation from the running API's ops plane. */
export async function reconcileThroughApi(url: string, token: string | undefined): Promise<Reconciliation> {
  if (!token) throw new AuditUnavailableError("the ops API needs a token: set OPS_TOKEN or pass --token");
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/+$/, "")}/ops/orders/reconcile`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new AuditUnavailableError(`${url} did not answer: ${errorMessage(error)}`);
  }
  if (!res.ok)
    throw new AuditUnavailableError(`${url}/ops/orders/reconcile answered ${res.status}: ${await res.text()}`);
  const { ok: _ok, ...reconciliation } = (await res.json()) as Reconciliation & { ok: boolean };
  return reconciliation;
}

/** The reconciliation straight from the store, for when the API is down. */
async function reconcileFromStore(options: { dataDir?: string; databaseUrl?: string }): Promise<Reconciliation> {
  const store = openOrderStore({ dataDir: options.dataDir ?? "./var", databaseUrl: options.databaseUrl });
  try {
    return await store.reconcile();
  } finally {
    await store.close();
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      "data-dir": { type: "string" },
      "database-url": { type: "string" },
      settled: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }).values;
}

async function main(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (error) {
    console.error(`${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const env = loadCliEnv();
  let r: Reconciliation;
  try {
    r =
      values["data-dir"] || values["database-url"]
        ? await reconcileFromStore({ dataDir: values["data-dir"], databaseUrl: values["database-url"] })
        : await reconcileThroughApi(values.url ?? env.SURGE_API_URL, values.token ?? env.OPS_TOKEN);
  } catch (error) {
    console.error(`audit:orders: ${errorMessage(error)}`);
    return 3;
  }
  const verdict = auditVerdict(r);
  console.log(values.json ? JSON.stringify({ ...r, ...verdict }, null, 2) : formatAudit(r, verdict));
  return verdict.ok && (!values.settled || verdict.settled) ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv.slice(2));
}
