import type { Metadata } from "next";
import { RUNBOOK_MARKDOWN } from "../../../generated/runbook";
import { renderMarkdown } from "../../../lib/markdown";

export const metadata: Metadata = { title: "Runbook" };

/** docs/runbook.md, built into the console: every alert's "runbook ↗" opens its heading here. */
export default function RunbookPage() {
  return <article className="panel prose runbook">{renderMarkdown(RUNBOOK_MARKDOWN)}</article>;
}
