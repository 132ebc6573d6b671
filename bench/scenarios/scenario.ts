import type { BenchSubject } from "../subjects/subject.ts";

export interface ScenarioContext {
  readonly subject: BenchSubject;
  /** Smaller counts and shorter runs: a smoke test, not a measurement. */
  readonly quick: boolean;
  /**
   * Fraction of the full counts and durations (`bench:peers` runs seven systems in one
   * bounded run); 1 when absent. Ignored under `quick`.
   */
  readonly scale?: number;
  /** Progress lines on stderr. */
  log(message: string): void;
}

/** One measurement: `value` is what the target judges; `details` are shown beside it. */
export interface Measurement {
  readonly value: number;
  readonly details: Readonly<Record<string, number | string>>;
}

/** `value` is absolute, or a fraction of another scenario's median when `relativeTo` is set. */
export interface Target {
  readonly op: ">=" | "<=";
  readonly value: number;
  readonly relativeTo?: string;
}

/** A system prepared for a scenario, measured one or more times. */
export interface Trial {
  measure(): Promise<Measurement>;
  close(): Promise<void>;
}

export interface Scenario {
  /** For `--scenario` and the JSON. */
  readonly name: string;
  readonly title: string;
  /** Unit of `Measurement.value`, e.g. "events/s". */
  readonly unit: string;
  readonly target: Target;
  /**
   * "per-run": every run opens a fresh trial (fresh system); "shared": the setup is costly
   * (a 10M-event preload), so one trial is measured once per run.
   */
  readonly setup: "per-run" | "shared";
  open(context: ScenarioContext): Promise<Trial>;
}

/** A count or duration: `quick` under `--quick`, else `full` scaled, never below `quick`. */
export function sized(context: ScenarioContext, full: number, quick: number): number {
  if (context.quick) return quick;
  return Math.max(quick, Math.round(full * (context.scale ?? 1)));
}
