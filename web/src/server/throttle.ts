/**
 * Failed sign-ins per client within a sliding window. Operator tokens are long
 * random strings, so this is not what keeps them safe; it keeps a script from
 * turning the sign-in form into a load generator against the API's /ops/whoami.
 */
export class SignInThrottle {
  readonly #failures = new Map<string, number[]>();

  constructor(readonly options: { maxFailures: number; windowMs: number; now?: () => number }) {}

  #recent(client: string): number[] {
    const now = (this.options.now ?? Date.now)();
    const kept = (this.#failures.get(client) ?? []).filter((t) => now - t < this.options.windowMs);
    if (kept.length === 0) this.#failures.delete(client);
    else this.#failures.set(client, kept);
    return kept;
  }

  blocked(client: string): boolean {
    return this.#recent(client).length >= this.options.maxFailures;
  }

  failed(client: string): void {
    const recent = this.#recent(client);
    recent.push((this.options.now ?? Date.now)());
    this.#failures.set(client, recent);
    // Bound the map: a flood of distinct clients must not grow it without limit.
    if (this.#failures.size > 10_000) this.#failures.clear();
  }
}
