// The supervisors' live board, from the server-sent events of /api/live: the
// whole board first, then every change, in order (a separate fetch could answer
// with an older board than the events already shown). Every value is written
// with textContent (never innerHTML).
"use strict";

const state = { queues: new Map(), ami: null, offset: 0, alerts: [], standings: [] };
const MAX_ALERTS = 20;
const TIERS = { standard: "Standard", premium: "Premium", premium_plus: "Premium Plus" };

function now() {
  return Date.now() + state.offset;
}

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function renderQueue(queue) {
  const tpl = document.getElementById("queue-template");
  const section = tpl.content.firstElementChild.cloneNode(true);
  section.dataset.queue = queue.name;
  section.querySelector(".queue-name").textContent = queue.name;
  const t = queue.today || {};
  const sl = t.service_level === null || t.service_level === undefined
    ? "–" : `${Math.round(t.service_level * 100)}%`;
  section.querySelector(".figures").textContent =
    `Today: ${t.offered || 0} offered, ${t.answered || 0} answered, ` +
    `${t.abandoned || 0} abandoned · average wait ${duration(t.average_wait || 0)}, ` +
    `longest ${duration(t.longest_wait || 0)} · answered within ` +
    `${t.service_level_seconds || 0}s: ${sl}`;
  const body = section.querySelector("tbody");
  if (!queue.callers.length) {
    const row = document.createElement("tr");
    cell(row, "No one waiting", "muted").colSpan = 8;
    body.appendChild(row);
  }
  for (const c of queue.callers) {
    const row = document.createElement("tr");
    row.className = "caller" + (c.emergency ? " emergency" : "");
    row.dataset.uniqueid = c.uniqueid;
    cell(row, String(c.position));
    cell(row, "", "wait").dataset.since = c.joined_at;
    cell(row, c.caller_name ? `${c.caller_id} (${c.caller_name})` : c.caller_id);
    cell(row, c.reseller_name ? `${c.reseller_name} (${c.reseller})` : (c.reseller || "unidentified"));
    cell(row, TIERS[c.tier] || c.tier || "–", "tier");
    cell(row, c.host_id || "–", "host");
    cell(row, c.ticket ? (c.emergency ? `${c.ticket} EMERGENCY` : c.ticket) : "–", "ticket");
    const sla = cell(row, c.sla_due ? "" : "–", "sla");
    if (c.sla_due) sla.dataset.due = c.sla_due;
    body.appendChild(row);
  }
  const agents = queue.agents.map((a) => `${a.name}: ${a.state}` +
    (a.paused_reason ? ` (${a.paused_reason})` : ""));
  section.querySelector(".agents").textContent =
    agents.length ? `Agents: ${agents.join(" · ")}` : "No agents logged in";
  return section;
}

function render() {
  const main = document.getElementById("queues");
  const names = [...state.queues.keys()].sort();
  main.replaceChildren(...names.map((n) => renderQueue(state.queues.get(n))));
  if (!names.length) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = "No queues seen yet.";
    main.appendChild(p);
  }
  renderStale();
  tick();
}

function renderStale() {
  const banner = document.getElementById("stale");
  const ami = state.ami;
  if (!ami || ami.state === "up") {
    banner.hidden = true;
    banner.textContent = "";
    return;
  }
  banner.hidden = false;
  const since = ami.since ? new Date(ami.since).toLocaleTimeString() : "unknown";
  banner.textContent = ami.state === "none"
    ? "Data stale: no connection to Asterisk has been made yet."
    : `Data stale since ${since}: the link to Asterisk is down (${ami.detail || "reconnecting"}).`;
}

function alertText(a) {
  const label = a.breach ? "SLA BREACHED" : `SLA ${a.label} used`;
  const parts = [`Ticket ${a.ticket}`, label, TIERS[a.tier] || a.tier || ""];
  if (a.emergency) parts.push("EMERGENCY");
  parts.push(`reseller ${a.reseller || "–"}`, `Host ID ${a.host_id || "–"}`);
  if (a.end_customer) parts.push(a.end_customer);
  if (a.paged) parts.push(`paged: ${a.paged}`);
  return parts.filter(Boolean).join(" · ");
}

function renderAlerts() {
  const box = document.getElementById("sla-alerts");
  const list = document.getElementById("sla-alert-list");
  list.replaceChildren(...state.alerts.map((a) => {
    const li = document.createElement("li");
    li.className = "sla-alert" + (a.breach ? " breach" : "") + (a.emergency ? " emergency" : "");
    li.dataset.ticket = a.ticket;
    li.textContent = alertText(a);
    return li;
  }));
  box.hidden = state.alerts.length === 0;
}

function renderStandings() {
  const body = document.getElementById("sla-standings");
  const rows = state.standings.map((s) => {
    const row = document.createElement("tr");
    row.className = "standing" + (s.emergency ? " emergency" : "");
    row.dataset.ticket = s.ticket;
    cell(row, s.emergency ? `${s.ticket} EMERGENCY` : s.ticket);
    cell(row, TIERS[s.tier] || s.tier);
    cell(row, s.reseller || "–");
    cell(row, s.host_id || "–");
    cell(row, s.end_customer || "–");
    cell(row, `${Math.round(s.elapsed_share * 100)}%`);
    cell(row, "", "sla").dataset.due = s.due;
    cell(row, s.alerts.length ? s.alerts.join(", ") : "–");
    return row;
  });
  if (!rows.length) {
    const row = document.createElement("tr");
    cell(row, "No open tickets on the SLA clock", "muted").colSpan = 8;
    rows.push(row);
  }
  body.replaceChildren(...rows);
  tick();
}

async function loadSla() {
  const response = await fetch("/api/sla", { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  state.standings = (await response.json()).tickets;
  renderStandings();
}

function onAlert(alert) {
  state.alerts = [alert, ...state.alerts.filter((a) =>
    !(a.ticket === alert.ticket && a.label === alert.label))].slice(0, MAX_ALERTS);
  renderAlerts();
  loadSla();
}

function tick() {
  const t = now();
  for (const el of document.querySelectorAll("td.wait")) {
    el.textContent = duration((t - Date.parse(el.dataset.since)) / 1000);
  }
  for (const el of document.querySelectorAll("td.sla[data-due]")) {
    const left = (Date.parse(el.dataset.due) - t) / 1000;
    el.textContent = left >= 0 ? duration(left) : `overdue ${duration(-left)}`;
    el.classList.toggle("overdue", left < 0);
  }
}

function showBoard(board) {
  state.offset = Date.parse(board.server_time) - Date.now();
  state.queues = new Map(board.queues.map((q) => [q.name, q]));
  state.ami = board.ami;
  render();
}

async function signedOut() {
  const response = await fetch("/api/me", { headers: { Accept: "application/json" } });
  return response.status === 401;
}

function follow() {
  const source = new EventSource("/api/live");
  source.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.kind === "board") {
      showBoard(message.board);
    } else if (message.kind === "queue") {
      state.queues.set(message.queue.name, message.queue);
      render();
    } else if (message.kind === "ami") {
      state.ami = message.ami;
      renderStale();
    } else if (message.kind === "sla_alert") {
      onAlert(message);
    } else if (message.kind === "ticket") {
      loadSla(); // acknowledged, resolved or opened: the SLA panel changes
    } else if (message.kind === "resync") {
      // The server missed changes: start over from a fresh board.
      source.close();
      follow();
      loadSla();
    }
  };
  source.onerror = async () => {
    state.ami = { state: "down", since: new Date().toISOString(), detail: "no connection to the server" };
    renderStale();
    if (await signedOut()) window.location.assign("/login");
    // Otherwise EventSource reconnects by itself and the server sends a fresh board.
  };
}

follow();
loadSla();
setInterval(tick, 1000);
setInterval(loadSla, 30000); // shares of SLA elapsed move with the clock
