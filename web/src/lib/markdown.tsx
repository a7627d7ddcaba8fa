import type { ReactNode } from "react";

/**
 * The Markdown the docs use (headings, paragraphs, lists, tables, fenced code; inline code, bold,
 * italics, links) as React elements, for the console's Runbook page. Headings get GitHub's anchors,
 * so a rule's `docs/runbook.md#surgedeadletters` is `/runbook#surgedeadletters` here. Links to other
 * docs files name the file (the console does not serve the docs); links within the page stay links.
 */

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every heading's anchor, in order. */
export function headingAnchors(markdown: string): string[] {
  return [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(plain(m[1] ?? "")));
}

/** Inline markup removed: what a heading reads as. */
function plain(text: string): string {
  return text.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/[`*_]/g, "");
}

const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|(?<![\w])_(.+?)_(?![\w])|\[([^\]]+)\]\(([^)\s]+)\)/g;

function inline(text: string, key: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let i = 0;
  for (const m of text.matchAll(INLINE)) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const k = `${key}.${i++}`;
    if (m[1] !== undefined) out.push(<code key={k}>{m[1]}</code>);
    else if (m[2] !== undefined) out.push(<strong key={k}>{inline(m[2], k)}</strong>);
    else if (m[3] !== undefined) out.push(<em key={k}>{inline(m[3], k)}</em>);
    else out.push(link(m[4] ?? "", m[5] ?? "", k));
    last = at + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function link(text: string, href: string, key: string): ReactNode {
  if (href.startsWith("#")) {
    return (
      <a key={key} href={href}>
        {inline(text, key)}
      </a>
    );
  }
  if (/^https?:\/\//.test(href)) {
    return (
      <a key={key} href={href} target="_blank" rel="noreferrer">
        {inline(text, key)} ↗
      </a>
    );
  }
  // Another docs file: named, not linked (it would land on the console's 404).
  const file = href.startsWith("../") ? href.slice(3) : `docs/${href}`;
  return (
    <span key={key}>
      {inline(text, key)} <span className="faint">({file})</span>
    </span>
  );
}

const cells = (row: string) =>
  row
    .trim()
    .replace(/^\||\|$/g, "")
    .split("|")
    .map((c) => c.trim());

/** The document as elements; headings carry their anchor as id. */
export function renderMarkdown(markdown: string): ReactNode[] {
  const lines = markdown.replace(/\r\n/g, "\n").split("\n");
  const out: ReactNode[] = [];
  let i = 0;
  const key = () => `b${out.length}`;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (line.trim() === "") {
      i++;
      continue;
    }
    const heading = /^(#{1,6})\s+(.+)$/.exec(line);
    if (heading) {
      const level = Math.min(4, (heading[1] ?? "#").length);
      const text = heading[2] ?? "";
      const Tag = `h${level}` as "h1" | "h2" | "h3" | "h4";
      out.push(
        <Tag key={key()} id={slug(plain(text))}>
          {inline(text, key())}
        </Tag>,
      );
      i++;
      continue;
    }
    if (line.startsWith("```")) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? "").startsWith("```")) body.push(lines[i++] ?? "");
      i++;
      out.push(
        <pre key={key()} className="code">
          <code>{body.join("\n")}</code>
        </pre>,
      );
      continue;
    }
    if (line.trim().startsWith("|")) {
      const rows: string[] = [];
      while (i < lines.length && (lines[i] ?? "").trim().startsWith("|")) rows.push(lines[i++] ?? "");
      const [head = "", , ...body] = rows;
      const k = key();
      out.push(
        <div key={k} className="table-scroll">
          <table>
            <thead>
              <tr>
                {cells(head).map((c, j) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a static document, rendered once: nothing reorders
                  <th key={`${k}h${j}`}>{inline(c, `${k}h${j}`)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {body.map((row, r) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a static document, rendered once: nothing reorders
                <tr key={`${k}r${r}`}>
                  {cells(row).map((c, j) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: a static document, rendered once: nothing reorders
                    <td key={`${k}r${r}c${j}`}>{inline(c, `${k}r${r}c${j}`)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>,
      );
      continue;
    }
    const item = /^(\s*)([-*]|\d+\.)\s+/;
    if (item.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items: string[] = [];
      while (i < lines.length && (lines[i] ?? "").trim() !== "") {
        const l = lines[i++] ?? "";
        if (item.test(l)) items.push(l.replace(item, ""));
        else items[items.length - 1] = `${items[items.length - 1] ?? ""} ${l.trim()}`;
      }
      const k = key();
      const List = ordered ? "ol" : "ul";
      out.push(
        <List key={k}>
          {items.map((t, j) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a static document, rendered once: nothing reorders
            <li key={`${k}.${j}`}>{inline(t, `${k}.${j}`)}</li>
          ))}
        </List>,
      );
      continue;
    }
    const para: string[] = [];
    while (i < lines.length) {
      const l = lines[i] ?? "";
      if (l.trim() === "" || (para.length > 0 && /^(#{1,6}\s|```|\s*\||\s*([-*]|\d+\.)\s)/.test(l))) break;
      para.push(l.trim());
      i++;
    }
    const k = key();
    out.push(<p key={k}>{inline(para.join(" "), k)}</p>);
  }
  return out;
}
