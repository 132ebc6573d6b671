// The storefront: places orders and shows, every half second, what each service did with them.
const $ = (id) => document.getElementById(id);
const placed = new Map(); // orderId -> order, for orders placed from this page
let renders = 0;

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function cell(effect, matches, label) {
  const td = el("td", { "data-effect": effect, "data-count": matches.length });
  if (matches.length === 0) td.textContent = "…";
  else {
    td.append(`${label}${matches.length > 1 ? ` ×${matches.length}` : ""} `);
    td.append(el("code", {}, matches[0].correlationid ?? ""));
  }
  return td;
}

function render(status) {
  const byCorr = (list) => (id) => (list ?? []).filter((x) => x.correlationid === id);
  const mail = status.email?.sent ?? [];
  const receipts = byCorr(mail.filter((m) => m.kind === "receipt"));
  const notices = byCorr(mail.filter((m) => m.kind === "out-of-stock"));
  const reminders = byCorr(mail.filter((m) => m.kind === "reminder"));
  const outcomes = byCorr(status.inventory?.outcomes);
  const shipments = byCorr(status.fulfillment?.shipments);
  const history = byCorr(status.history?.orders);
  const posts = byCorr(status.slack?.posts);
  const sms = byCorr(status.sms?.sent);
  const profiles = status.profiles?.profiles ?? [];

  const orders = new Map(placed);
  for (const o of status.history?.orders ?? []) orders.set(o.orderId, o);
  const rows = [...orders.values()].sort((a, b) => a.placedAt.localeCompare(b.placedAt));
  $("orders").replaceChildren(
    ...rows.map((o) => {
      const tr = el("tr", { "data-order": o.orderId });
      const stock = outcomes(o.orderId);
      const stockCell = cell(
        "stock",
        stock,
        stock[0]?.type === "OutOfStock" ? "out of stock" : "reserved",
      );
      if (stock[0]?.type === "OutOfStock") stockCell.className = "bad";
      // The order's place in its life, as the history read model has it (from its events).
      const life = o.status ?? "placed";
      const statusCell = el("td", { "data-status": life }, life);
      if (life === "placed") {
        const pay = el("button", { "data-pay": o.orderId, type: "button" }, "Pay");
        pay.addEventListener("click", () => void payOrder(o.orderId));
        statusCell.append(" ", pay);
      }
      const inProfile = profiles
        .filter((p) => p.orders.includes(o.orderId))
        .map(() => ({ correlationid: o.orderId }));
      tr.append(
        el("td", {}, o.orderId),
        el("td", {}, o.customerId),
        statusCell,
        cell("receipt", receipts(o.orderId), "sent"),
        cell("reminder", reminders(o.orderId), "sent"),
        stockCell,
        cell("notice", notices(o.orderId), "sent"),
        cell("shipment", shipments(o.orderId), "shipped"),
        cell("history", history(o.orderId), "recorded"),
        cell("slack", posts(o.orderId), "posted"),
        cell("sms", sms(o.orderId), `texted (try ${sms(o.orderId)[0]?.attempt})`),
        cell("profile", inProfile, "in profile"),
      );
      return tr;
    }),
  );
  const rebuild = status.history?.rebuild;
  if (rebuild) {
    const progress = rebuild.progress;
    const counts = progress
      ? ` ${progress.applied}/${progress.total} events (${progress.eventsPerSecond}/s)`
      : "";
    const text = {
      idle: `live table ${rebuild.table}`,
      rebuilding: `rebuilding…${counts}`,
      done: `rebuilt:${counts}; live table ${rebuild.table}`,
      failed: `rebuild failed: ${rebuild.error}`,
    }[rebuild.state];
    const node = $("rebuild-status");
    node.textContent = text;
    node.dataset.state = rebuild.state;
    node.dataset.rebuilds = String(rebuild.rebuilds);
    node.dataset.table = rebuild.table;
  }
  $("stock").replaceChildren(
    ...Object.entries(status.inventory?.stock ?? {}).map(([sku, n]) =>
      el("li", { "data-sku": sku, "data-left": n }, `${sku}: ${n}`),
    ),
  );
  $("usage").replaceChildren(
    ...Object.entries(status.usage?.counts ?? {}).map(([c, n]) =>
      el("li", { "data-customer": c, "data-sms": n }, `${c}: ${n}`),
    ),
  );
  const { outbox, ...services } = status;
  if (outbox) {
    $("outbox").textContent =
      `${outbox.pending} event(s) waiting for the relay${outbox.pending ? `, oldest ${outbox.oldestMs} ms` : ""}`;
    $("outbox").dataset.pending = String(outbox.pending);
  }
  $("services").replaceChildren(
    ...Object.entries(services).map(([name, state]) =>
      el(
        "li",
        { "data-service": name, class: state ? "up" : "down" },
        `${name}: ${state ? "up" : "down"}`,
      ),
    ),
  );
}

async function poll() {
  try {
    render(await (await fetch("/api/status")).json());
    document.body.dataset.renders = String(++renders); // lets a test wait for fresh data
  } catch {
    // checkout itself is down; try again
  }
  setTimeout(poll, 500);
}

async function payOrder(orderId) {
  const res = await fetch(`/api/orders/${orderId}/pay`, { method: "POST" });
  const answer = await res.json();
  $("last-order").textContent = res.ok
    ? `paid ${orderId} (reminder ${answer.reminder})`
    : `not paid: ${answer.error}`;
  $("last-order").dataset.paid = res.ok ? orderId : "";
}

async function rebuildHistory() {
  const res = await fetch("/api/history/rebuild", { method: "POST" });
  if (!res.ok) $("rebuild-status").textContent = `not rebuilt: ${(await res.json()).error}`;
}

async function placeOrder(event) {
  event.preventDefault();
  const body = {
    customerId: $("customer").value,
    lines: [{ sku: $("sku").value, qty: Number($("qty").value) }],
  };
  const coupon = $("coupon").value.trim();
  if (coupon) body.couponCode = coupon;
  const res = await fetch("/api/orders", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) {
    const where = (answer.errors ?? []).map((e) => ` ${e.pointer}: ${e.message}`).join(";");
    $("last-order").textContent = `refused: ${answer.error}${where}`;
    return;
  }
  placed.set(answer.orderId, answer);
  $("last-order").textContent = `placed ${answer.orderId}`;
  $("last-order").dataset.orderId = answer.orderId;
}

const catalogue = await (await fetch("/api/catalogue")).json();
$("sku").replaceChildren(
  ...catalogue.map((p) => el("option", { value: p.sku }, `${p.name} ($${p.price})`)),
);
$("order-form").addEventListener("submit", (event) => void placeOrder(event));
$("rebuild").addEventListener("click", () => void rebuildHistory());
void poll();
