import { errorMessage } from "@surge/core";

type Provider = () => Promise<unknown> | unknown;

/**
 * The one snapshot behind `GET /ops/state` and every `/ops/stream` event.
 * Sections are registered by the modules that own them (queue, fleet, lambda…);
 * a section that fails reports its error instead of failing the snapshot.
 */
export class OpsState {
  readonly #sections = new Map<string, Provider>();

  register(section: string, provider: Provider): void {
    if (this.#sections.has(section)) throw new Error(`state section ${section} registered twice`);
    this.#sections.set(section, provider);
  }

  async snapshot(): Promise<Record<string, unknown>> {
    const entries = await Promise.all(
      [...this.#sections].map(async ([name, provider]) => {
        try {
          return [name, await provider()] as const;
        } catch (error) {
          return [name, { error: errorMessage(error) }] as const;
        }
      }),
    );
    return { at: new Date().toISOString(), ...Object.fromEntries(entries) };
  }
}
