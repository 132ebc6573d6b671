/**
 * Which node serves each subscription's deliveries, and getting calls there. The owner
 * answers on the subscription's owner subject; any other node forwards lease, settle, seek,
 * redrive and stats calls to it as NATS requests. "No responders" means nobody owns the
 * subscription (or its owner died with its connection): the caller then claims it in the
 * owners bucket — a create, or an update at the revision it read, so of two nodes racing for
 * it one wins — and becomes the owner. An owner that finds the bucket naming another node
 * (it was cut off and replaced) drops the subscription.
 */
import type { Msg, Subscription } from "@nats-io/transport-node";
import type { SwitchyardError } from "../../core/errors.js";
import type { NatsContext } from "./context.js";
import { fromWire, subscriptionNotFound, toWire, unavailable, type WireError } from "./errors.js";
import { statusOf } from "./inbox.js";
import { type OwnerCall, serveCall } from "./owner-calls.js";
import { type OwnerDeps, SubscriptionOwner } from "./subscription-owner.js";

/** Before taking over from a node named in the bucket, ask again: its interest may be in transit. */
const TAKEOVER_RETRIES_MS = [50, 200];
const VERIFY_EVERY_MS = 2_000;
const FORWARD_ATTEMPTS = 4;
/** A live owner confirms receipt of a forwarded call within this (it answers later). */
const ACCEPT_MS = 1_000;
const ACCEPTED = '{"accepted":true}';

interface Owned {
  readonly owner: SubscriptionOwner;
  readonly subscription: Subscription;
}

type Exchanged =
  | { readonly kind: "reply"; readonly reply: Msg }
  | { readonly kind: "no-responders" }
  /** Nobody confirmed receipt. */
  | { readonly kind: "silent" }
  /** The owner confirmed receipt but did not answer in time. */
  | { readonly kind: "timeout" };

type Forwarded =
  | { readonly kind: "answer"; readonly value: unknown }
  | { readonly kind: "error"; readonly error: SwitchyardError }
  | { readonly kind: "no-owner" }
  | { readonly kind: "retry" };

export class Owners {
  readonly #deps: OwnerDeps;
  readonly #owned = new Map<string, Owned>();
  readonly #acquiring = new Map<string, Promise<SubscriptionOwner | null>>();
  /** Leases served here for other nodes, by request id, so the requester can cancel them. */
  readonly #remote = new Map<string, AbortController>();
  #verifier: NodeJS.Timeout | undefined;
  #nextRid = 0;

  constructor(deps: OwnerDeps) {
    this.#deps = deps;
  }

  get #ctx(): NatsContext {
    return this.#deps.ctx;
  }

  start(): void {
    this.#verifier = setInterval(() => void this.verify(), VERIFY_EVERY_MS);
    this.#verifier.unref();
  }

  /** Whether this node serves `sub` now (the only node that reports its gauges). */
  ownsHere(sub: string): boolean {
    return this.#owned.has(sub);
  }

  /** Runs `call` on the subscription's owner, claiming it when nobody owns it. */
  async call<T>(sub: string, call: OwnerCall, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.#ctx.check();
      const local = this.#owned.get(sub)?.owner ?? (await this.#acquiring.get(sub));
      if (local) return (await serveCall(local, call, signal)) as T;
      const forwarded = await this.#forward(sub, call, signal);
      if (forwarded.kind === "answer") return forwarded.value as T;
      if (forwarded.kind === "error") throw forwarded.error;
      if (forwarded.kind === "no-owner") {
        const owner = await this.#acquire(sub);
        if (owner !== null) return (await serveCall(owner, call, signal)) as T;
      }
      if (attempt >= FORWARD_ATTEMPTS) throw unavailable(`reaching the owner of ${sub}`);
      await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
    }
  }

  /** Tells the owner, if any, without claiming the subscription (config reloads, drops). */
  async tell(sub: string, call: OwnerCall): Promise<void> {
    const local =
      this.#owned.get(sub)?.owner ?? (await this.#acquiring.get(sub)?.catch(() => null));
    if (local) {
      if (call.op === "drop") await this.drop(sub, true);
      else await serveCall(local, call);
      return;
    }
    await this.#forward(sub, call);
  }

  /** Stops serving `sub` here; with `release`, also frees it in the bucket for the next node. */
  async drop(sub: string, release: boolean): Promise<void> {
    const owned = this.#owned.get(sub);
    if (owned === undefined) return;
    this.#owned.delete(sub);
    owned.subscription.unsubscribe();
    await owned.owner.stop();
    if (!release) return;
    const entry = await this.#ctx.metadata.owners.get(sub).catch(() => null);
    if (entry?.value === this.#ctx.nodeId)
      await this.#ctx.metadata.owners.delete(sub, entry.revision).catch(() => false);
  }

  /** Drops every subscription the bucket no longer says this node owns. */
  async verify(): Promise<void> {
    for (const sub of [...this.#owned.keys()]) {
      const entry = await this.#ctx.metadata.owners.get(sub).catch(() => undefined);
      if (entry !== undefined && entry?.value !== this.#ctx.nodeId) await this.drop(sub, false);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#verifier);
    for (const controller of this.#remote.values()) controller.abort();
    await Promise.all([...this.#owned.keys()].map((sub) => this.drop(sub, true)));
  }

  /** Like a crash: stop everything, release nothing. */
  abandon(): void {
    clearInterval(this.#verifier);
    for (const { owner, subscription } of this.#owned.values()) {
      subscription.unsubscribe();
      void owner.stop().catch(() => undefined);
    }
    this.#owned.clear();
  }

  async #forward(sub: string, call: OwnerCall, signal?: AbortSignal): Promise<Forwarded> {
    const rid = `${this.#ctx.nodeId}.${(this.#nextRid++).toString(36)}`;
    const body = JSON.stringify(call.op === "lease" ? { ...call, rid } : call);
    const wait = call.op === "lease" ? call.waitMs : 0;
    const cancel = () => this.#publish(sub, { op: "cancel", rid });
    signal?.addEventListener("abort", cancel);
    let outcome: Exchanged = { kind: "silent" };
    try {
      for (const pause of [0, ...TAKEOVER_RETRIES_MS]) {
        if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
        outcome = await this.#exchange(sub, body, wait + this.#ctx.timeoutMs);
        if (outcome.kind !== "no-responders") break;
        if ((await this.#ctx.metadata.owners.get(sub)) === null) break;
      }
    } finally {
      signal?.removeEventListener("abort", cancel);
    }
    if (outcome.kind === "no-responders") return { kind: "no-owner" };
    // Not even accepted: the owner died just now, before NATS dropped its interest (a request
    // routed to a dead connection gets neither a reply nor "no responders"). Ask again.
    if (outcome.kind === "silent") return { kind: "retry" };
    if (outcome.kind === "timeout") throw unavailable(`waiting for the owner of ${sub}`);
    return this.#answer(sub, outcome.reply, call, signal);
  }

  /**
   * One forwarded call: the owner confirms receipt at once (`accepted`), then answers. A
   * request nobody confirms within ACCEPT_MS went to a dead node; one confirmed but not
   * answered within `answerMs` is a failure of a live owner.
   */
  #exchange(sub: string, body: string, answerMs: number): Promise<Exchanged> {
    return new Promise((resolve) => {
      let accepted = false;
      const finish = (outcome: Exchanged) => {
        clearTimeout(timer);
        route.close();
        resolve(outcome);
      };
      const route = this.#ctx.inbox.open((msg) => {
        if (statusOf(msg) === 503) return finish({ kind: "no-responders" });
        if (msg.data.length === ACCEPTED.length && msg.string() === ACCEPTED) {
          accepted = true;
          clearTimeout(timer);
          timer = setTimeout(() => finish({ kind: "timeout" }), answerMs);
          return;
        }
        finish({ kind: "reply", reply: msg });
      });
      let timer = setTimeout(() => finish({ kind: accepted ? "timeout" : "silent" }), ACCEPT_MS);
      try {
        this.#ctx.nc.publish(this.#ctx.names.ownerSubject(sub), body, { reply: route.subject });
      } catch {
        finish({ kind: "silent" });
      }
    });
  }

  #answer(sub: string, reply: Msg, call: OwnerCall, signal?: AbortSignal): Forwarded {
    const parsed = JSON.parse(reply.string()) as { ok?: unknown; error?: WireError; moved?: true };
    if (parsed.moved) return { kind: "retry" };
    if (parsed.error !== undefined) return { kind: "error", error: fromWire(parsed.error) };
    if (
      call.op === "lease" &&
      signal?.aborted &&
      Array.isArray(parsed.ok) &&
      parsed.ok.length > 0
    ) {
      // The caller gave up while the owner was answering: give the deliveries back.
      const ackIds = (parsed.ok as { ackId: string }[]).map((d) => d.ackId);
      this.#publish(sub, { op: "release", ackIds });
      return { kind: "answer", value: [] };
    }
    return { kind: "answer", value: parsed.ok };
  }

  #publish(sub: string, call: OwnerCall): void {
    try {
      this.#ctx.nc.publish(this.#ctx.names.ownerSubject(sub), JSON.stringify(call));
    } catch {
      // Closed: the owner's lease simply runs its course.
    }
  }

  async #acquire(sub: string): Promise<SubscriptionOwner | null> {
    const pending = this.#acquiring.get(sub);
    if (pending !== undefined) return pending;
    const attempt = this.#claim(sub);
    this.#acquiring.set(sub, attempt);
    try {
      return await attempt;
    } finally {
      this.#acquiring.delete(sub);
    }
  }

  async #claim(sub: string): Promise<SubscriptionOwner | null> {
    const { metadata, nc, names, nodeId } = this.#ctx;
    const rec = await metadata.subscriptions.get(sub);
    if (rec === null) throw subscriptionNotFound(sub);
    // Listen first, so nobody sees "no responders" once the bucket names this node.
    const subscription = nc.subscribe(names.ownerSubject(sub), {
      callback: (error, msg) => {
        if (error === null) void this.#onRequest(sub, msg);
      },
    });
    try {
      const entry = await metadata.owners.get(sub);
      const won =
        entry === null
          ? (await metadata.owners.create(sub, nodeId)) !== null
          : entry.value === nodeId ||
            (await metadata.owners.update(sub, nodeId, entry.revision)) !== null;
      if (!won) {
        subscription.unsubscribe();
        return null;
      }
      const fresh = (await metadata.subscriptions.get(sub)) ?? rec;
      const owner = await SubscriptionOwner.start(this.#deps, fresh.value);
      this.#owned.set(sub, { owner, subscription });
      return owner;
    } catch (error) {
      subscription.unsubscribe();
      throw error;
    }
  }

  async #onRequest(sub: string, msg: Msg): Promise<void> {
    let call: OwnerCall & { rid?: string };
    try {
      call = JSON.parse(msg.string()) as OwnerCall & { rid?: string };
    } catch {
      return;
    }
    if (call.op === "cancel") {
      this.#remote.get(call.rid)?.abort();
      return;
    }
    const owned = this.#owned.get(sub)?.owner;
    const acquiring = this.#acquiring.get(sub);
    const moved = () => msg.reply && msg.respond(JSON.stringify({ moved: true }));
    if (owned === undefined && acquiring === undefined) return void moved();
    if (msg.reply) msg.respond(ACCEPTED);
    const owner = owned ?? (await acquiring?.catch(() => null));
    // Lost the race for it: the caller asks again and reaches the winner.
    if (!owner) return void moved();
    const controller = new AbortController();
    if (call.rid !== undefined) this.#remote.set(call.rid, controller);
    try {
      const ok = await serveCall(owner, call, controller.signal, this.#budget());
      if (call.op === "drop") await this.drop(sub, true);
      if (msg.reply) msg.respond(JSON.stringify({ ok }));
    } catch (error) {
      if (msg.reply) msg.respond(JSON.stringify({ error: toWire(error) }));
    } finally {
      if (call.rid !== undefined) this.#remote.delete(call.rid);
    }
  }

  /** Deliveries sent to another node must fit in one NATS message. */
  #budget(): number {
    const max = this.#ctx.nc.info?.max_payload ?? 1_048_576;
    return Math.max(1_024, Math.floor(max / 2) - 64 * 1_024);
  }
}
