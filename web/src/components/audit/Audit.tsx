"use client";

import { useState } from "react";
import { useOps } from "../../client/use-ops";
import { changes } from "../../lib/audit";
import { dateTime } from "../../lib/format";
import type { AuditEntry } from "../../lib/ops";
import { TextField } from "../fields";
import { Empty, PageHead, Resource, Table } from "../ui";

const ACTIONS = [
  { value: "", label: "every action" },
  { value: "fleet.", label: "fleet (scale, concurrency)" },
  { value: "autoscaling.", label: "autoscaling policy" },
  { value: "burst.", label: "bursts" },
  { value: "dlq.", label: "DLQ redrive" },
  { value: "queue.", label: "queue purge" },
  { value: "processing.", label: "processing routing" },
];

export function Audit() {
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  const [text, setText] = useState("");
  const params = new URLSearchParams({ limit: "500" });
  if (action) params.set("action", action);
  if (actor.trim()) params.set("actor", actor.trim());
  const audit = useOps<{ entries: AuditEntry[] }>(`/audit?${params.toString()}`, 5000);
  const needle = text.trim().toLowerCase();
  return (
    <>
      <PageHead title="Audit" sub="every control action: who, when, what, before → after" />
      <form className="panel" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <div className="fields">
          <label className="field">
            <span>Action</span>
            <select value={action} onChange={(e) => setAction(e.target.value)} name="audit-action">
              {ACTIONS.map((a) => (
                <option key={a.value} value={a.value}>
                  {a.label}
                </option>
              ))}
            </select>
          </label>
          <TextField
            label="Who (token label)"
            type="text"
            value={actor}
            onValue={setActor}
            placeholder="operator"
            name="audit-actor"
          />
          <TextField
            label="Contains"
            type="search"
            value={text}
            onValue={setText}
            placeholder="e.g. purge"
            name="audit-text"
          />
        </div>
      </form>
      <section className="panel" aria-label="Audit entries">
        <Resource resource={audit} what="the audit log">
          {(data) => {
            const entries = needle
              ? data.entries.filter((e) => JSON.stringify(e).toLowerCase().includes(needle))
              : data.entries;
            return entries.length === 0 ? (
              <Empty>
                {data.entries.length === 0 ? "No control actions recorded yet." : "No entry matches these filters."}
              </Empty>
            ) : (
              <>
                <p className="faint small">
                  {entries.length} entr{entries.length === 1 ? "y" : "ies"}, newest first
                </p>
                <Table label="Audit log" columns={["When", "Who", "Action", "Change", "Detail"]}>
                  {entries.map((e) => (
                    <tr key={e.id} data-testid="audit-row">
                      <td className="mono small">{dateTime(e.at)}</td>
                      <td>{e.actor}</td>
                      <td className="mono">{e.action}</td>
                      <td className="small">
                        {changes(e.before, e.after).map((c) => (
                          <div key={c.field}>
                            {c.field && <span className="muted">{c.field}: </span>}
                            <span className="mono">{c.from || "∅"}</span> → <span className="mono">{c.to || "∅"}</span>
                          </div>
                        ))}
                      </td>
                      <td className="mono small">{e.detail ?? ""}</td>
                    </tr>
                  ))}
                </Table>
              </>
            );
          }}
        </Resource>
      </section>
    </>
  );
}
