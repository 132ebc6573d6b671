/**
 * Each figure against the best peer at equal durability: a figure is only compared with
 * systems that promise as much about an acknowledged event (fsync before the ack, or not).
 */

/** "sync": acknowledged after an fsync; "interval": acknowledged before, synced within ~1 s. */
export type DurabilityClass = "sync" | "interval";

export interface Figure {
  readonly scenario: string;
  readonly subject: string;
  readonly durabilityClass: DurabilityClass;
  /** NaN when not measured. */
  readonly value: number;
  /** Throughputs: higher is better; latencies: lower is better. */
  readonly higherIsBetter: boolean;
}

export interface Ratio {
  /** value / the best value of the same scenario and durability class (NaN when unmeasured). */
  readonly ratio: number;
  /** The subject holding that best value (undefined when nothing was measured). */
  readonly best: string | undefined;
}

/** One `Ratio` per figure, in the same order. A best figure's ratio is exactly 1. */
export function ratiosToBest(figures: readonly Figure[]): Ratio[] {
  const bests = new Map<string, Figure>();
  for (const figure of figures) {
    if (!Number.isFinite(figure.value) || figure.value <= 0) continue;
    const key = `${figure.scenario}\u0000${figure.durabilityClass}`;
    const current = bests.get(key);
    const better =
      current === undefined ||
      (figure.higherIsBetter ? figure.value > current.value : figure.value < current.value);
    if (better) bests.set(key, figure);
  }
  return figures.map((figure) => {
    const best = bests.get(`${figure.scenario}\u0000${figure.durabilityClass}`);
    if (best === undefined) return { ratio: Number.NaN, best: undefined };
    const measured = Number.isFinite(figure.value) && figure.value > 0;
    return { ratio: measured ? figure.value / best.value : Number.NaN, best: best.subject };
  });
}

/** "1.00×", "0.42×", "—" for an unmeasured figure. */
export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "—";
}
