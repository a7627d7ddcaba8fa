import Link from "next/link";

export default function NotFound() {
  return (
    <main className="signin">
      <div className="panel" style={{ maxWidth: 420 }}>
        <h1>Not found</h1>
        <p className="muted">There is no console page here.</p>
        <Link href="/">Back to the overview</Link>
      </div>
    </main>
  );
}
