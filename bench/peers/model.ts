/** What one `bench:peers` run produces: the JSON, and the input of the table, chart and docs. */
import type { MachineInfo } from "../machine.ts";
import type { DurabilityClass } from "./ratio.ts";

export interface PeerStatus {
  readonly name: string;
  readonly durability: string;
  readonly durabilityClass: DurabilityClass;
  /** Why the peer has no figures ("nats-server not found"); absent when it was measured. */
  readonly notMeasured?: string;
}

export interface PeerRow {
  readonly scenario: string;
  readonly title: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly subject: string;
  readonly durability: string;
  readonly durabilityClass: DurabilityClass;
  /** NaN (null in the JSON) when not measured. */
  readonly value: number;
  /** value / the best value at equal durability in the same scenario. */
  readonly ratio: number;
  readonly bestAtEqualDurability: string | undefined;
  readonly details: Readonly<Record<string, number | string>>;
  readonly notMeasured?: string;
}

export interface PeersReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly quick: boolean;
  /** Fraction of the full scenario sizes used (1 = `npm run bench` sizes). */
  readonly scale: number;
  readonly peers: readonly PeerStatus[];
  readonly rows: readonly PeerRow[];
}
