// The ticket list: newest first, filtered by status, each row opening the drawer
// (the URL's #NUMBER too). Kept current by /api/live ticket events.
"use strict";

(() => {
  const { el, when, tierBadge, emergencyBadge, statusBadge } = Console;
  const state = { tickets: [], filter: "active" };
  const FILTERS = {
    active: (t) => t.status !== "resolved",
    open: (t) => t.status === "open",
    acknowledged: (t) => t.status === "acknowledged",
    resolved: (t) => t.status === "resolved",
    emergency: (t) => t.emergency,
    all: () => true,
  };

  function row(t) {
    const tr = el("tr", "clickable" + (t.emergency ? " emergency" : ""));
    tr.dataset.ticket = t.number;
    const number = el("th");
    number.scope = "row";
    number.append(Drawer.link(t.number, t.number));
    if (t.emergency) number.append(" ", emergencyBadge());
    const status = el("td");
    status.append(statusBadge(t.status));
    const reseller = el("td", "", t.reseller_name || t.reseller_account);
    const tier = el("td");
    tier.append(tierBadge(t.tier));
    // Host ID, tier and times are in the drawer too: a phone shows the four columns
    // that tell tickets apart (CSS hides the .wide-only ones).
    tier.className = "wide-only";
    tr.append(number, status, reseller, el("td", "", t.end_customer),
      el("td", "mono wide-only", t.host_id), tier, el("td", "wide-only", when(t.created)),
      el("td", "wide-only", t.status === "open" ? when(t.sla_due) : "–"));
    tr.addEventListener("click", (event) => {
      if (!event.target.closest("a")) Drawer.open(t.number);
    });
    return tr;
  }

  function render() {
    const shown = state.tickets.filter(FILTERS[state.filter]);
    const body = document.getElementById("ticket-rows");
    if (!shown.length) {
      const tr = el("tr");
      const td = el("td", "muted", "No ticket here.");
      td.colSpan = 8;
      tr.append(td);
      body.replaceChildren(tr);
    } else {
      body.replaceChildren(...shown.map(row));
    }
    document.getElementById("ticket-count").textContent =
      `${shown.length} of the ${state.tickets.length} newest tickets`;
  }

  async function load() {
    try {
      state.tickets = (await Console.getJson("/api/tickets?limit=200")).tickets;
      render();
    } catch (error) {
      document.getElementById("ticket-count").textContent = "The tickets could not be read.";
    }
  }

  for (const button of document.querySelectorAll("[data-filter]")) {
    button.addEventListener("click", () => {
      state.filter = button.dataset.filter;
      for (const b of document.querySelectorAll("[data-filter]")) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      }
      render();
    });
  }

  function fromHash() {
    const number = window.location.hash.replace(/^#/, "");
    if (/^\d{1,12}$/.test(number) && Drawer.current() !== number) Drawer.open(number);
  }
  window.addEventListener("hashchange", fromHash);
  Drawer.onChange((number) => {
    const wanted = number === null ? "" : `#${number}`;
    if (window.location.hash !== wanted) history.replaceState(null, "", `/tickets${wanted}`);
  });

  let pending = null;
  Console.follow((message) => {
    if (message.kind !== "ticket") return;
    Drawer.changed(message.number);
    clearTimeout(pending);
    pending = setTimeout(load, 300);
  });
  load().then(fromHash);
})();
