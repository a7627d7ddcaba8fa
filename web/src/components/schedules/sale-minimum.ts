/**
 * The capacity planner proposes a minimum; the Schedule form takes it. A window event, so the two
 * panels stay independent of each other's state (and of the page they are on).
 */
const EVENT = "surge:sale-minimum";

export function proposeSaleMinimum(minTasks: number): void {
  window.dispatchEvent(new CustomEvent<number>(EVENT, { detail: minTasks }));
}

export function onSaleMinimum(listener: (minTasks: number) => void): () => void {
  const handler = (e: Event) => listener((e as CustomEvent<number>).detail);
  window.addEventListener(EVENT, handler);
  return () => window.removeEventListener(EVENT, handler);
}
