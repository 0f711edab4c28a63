// The ticket drawer: everything a ticket holds (fields, recordings, SLA alerts,
// paging log, audit trail) and, for administrators, acknowledge and resolve with a
// confirmation step. Any link with data-ticket opens it. It refreshes itself when
// /api/live says its ticket changed (Drawer.changed), so a second browser sees it.
"use strict";

const Drawer = (() => {
  const { el, stamp, tierBadge, emergencyBadge, statusBadge, TIERS } = Console;
  const dialog = document.getElementById("ticket-drawer");
  const body = document.getElementById("drawer-body");
  const badges = document.getElementById("drawer-badges");
  const title = document.getElementById("drawer-title");
  const isAdmin = Console.session.role === "admin";
  let current = null;
  let opener = null;
  const listeners = [];

  function fact(list, name, value) {
    if (value === undefined || value === null || value === "") return;
    list.append(el("dt", "", name));
    const dd = el("dd");
    if (value instanceof Node) dd.append(value);
    else dd.textContent = String(value);
    list.append(dd);
  }

  function section(heading, ...children) {
    const box = el("section");
    box.append(el("h3", "", heading), ...children);
    return box;
  }

  function facts(t) {
    const list = el("dl", "facts");
    fact(list, "Reseller", t.reseller_name ? `${t.reseller_name} (${t.reseller_account})` : t.reseller_account);
    fact(list, "Customer", t.end_customer);
    fact(list, "Host ID", t.host_id);
    fact(list, "System", [t.system_type, t.software_release].filter(Boolean).join(", release "));
    fact(list, "Tier", TIERS[t.tier] || t.tier);
    fact(list, "Opened", stamp(t.created));
    fact(list, "SLA due", stamp(t.sla_due));
    fact(list, "Status", t.status);
    if (t.acknowledged_by) fact(list, "Acknowledged", `${t.acknowledged_by}, ${stamp(t.acknowledged_at)}`);
    if (t.resolved_by) fact(list, "Resolved", `${t.resolved_by}, ${stamp(t.resolved_at)}`);
    fact(list, "Resolution note", t.resolution_note);
    fact(list, "On-call", t.oncall_state);
    if (t.repeat_calls) fact(list, "Repeat calls", t.repeat_calls);
    fact(list, "Call id", t.call_id);
    return list;
  }

  function recordings(items) {
    if (!items.length) return el("p", "muted", "No recording (the caller left no description).");
    const list = el("ul", "quiet");
    for (const r of items) {
      const li = el("li");
      const label = `Description ${r.index + 1} (${r.file})`;
      if (r.url) {
        li.append(el("span", "", label));
        const audio = el("audio");
        audio.controls = true;
        audio.preload = "none";
        audio.src = r.url;
        audio.setAttribute("aria-label", label);
        const link = el("a", "", "Download WAV");
        link.href = r.url;
        link.download = r.file;
        li.append(audio, link);
      } else {
        li.append(el("span", "muted", `${label}: the file is not on this server`));
      }
      list.append(li);
    }
    return list;
  }

  function alerts(items) {
    if (!items.length) return el("p", "muted", "No SLA alert raised.");
    const list = el("ul", "quiet");
    for (const a of items) {
      const what = a.label === "breach" ? "SLA breached" : `${a.label} of the SLA used`;
      const paged = a.paged ? ` · paged: ${a.paged}` : "";
      list.append(el("li", a.label === "breach" ? "error" : "", `${stamp(a.at)} · ${what}${paged}`));
    }
    return list;
  }

  function pages(items) {
    if (!items.length) return el("p", "muted", "Nobody was paged for this ticket.");
    const wrap = el("div", "table-wrap");
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", "Paging log");
    const table = el("table");
    const head = el("thead");
    const row = el("tr");
    for (const name of ["When", "Engineer", "Round / step", "How", "Outcome"]) {
      const th = el("th", "", name);
      th.scope = "col";
      row.append(th);
    }
    head.append(row);
    const tbody = el("tbody");
    for (const p of items) {
      const tr = el("tr");
      tr.append(el("td", "", stamp(p.at)), el("td", "", p.engineer || "–"),
        el("td", "", `${p.round || "–"} / ${p.step || "–"}`),
        el("td", "", p.via || "on-call chain"), el("td", "", p.outcome || "–"));
      tbody.append(tr);
    }
    table.append(head, tbody);
    wrap.append(table);
    return wrap;
  }

  function trail(items) {
    const list = el("ol", "trail");
    for (const e of items) {
      const li = el("li");
      li.append(el("span", "when", `${stamp(e.at)}${e.by ? ` · ${e.by}` : ""}`), el("br"),
        el("span", "", `${String(e.event).replaceAll("_", " ")}${e.note ? `: ${e.note}` : ""}`));
      list.append(li);
    }
    return list;
  }

  function actions(t) {
    const box = el("div");
    if (!isAdmin || t.status === "resolved") return box;
    const row = el("div", "actions");
    if (t.status === "open") {
      const ack = el("button", "primary", "Acknowledge…");
      ack.type = "button";
      ack.id = "drawer-ack";
      ack.addEventListener("click", () => confirmStep(box, t, "ack"));
      row.append(ack);
    }
    const resolve = el("button", "", "Resolve…");
    resolve.type = "button";
    resolve.id = "drawer-resolve";
    resolve.addEventListener("click", () => confirmStep(box, t, "resolve"));
    row.append(resolve);
    box.append(row);
    return box;
  }

  function confirmStep(box, t, verb) {
    const panel = el("div", "confirm");
    panel.setAttribute("role", "group");
    panel.setAttribute("aria-label", "Confirm");
    const words = verb === "ack"
      ? `Acknowledge ticket ${t.number} as yours? Its SLA alerts stop.`
      : `Resolve ticket ${t.number}? Re-paging stops and the helpdesk is told.`;
    panel.append(el("p", "", words));
    let note = null;
    if (verb === "resolve") {
      const field = el("div", "field");
      const label = el("label", "", "Resolution note (optional)");
      label.htmlFor = "resolve-note";
      note = el("textarea");
      note.id = "resolve-note";
      note.rows = 3;
      note.maxLength = 2000;
      field.append(label, note);
      panel.append(field);
    }
    const row = el("div", "actions");
    const yes = el("button", verb === "ack" ? "primary" : "danger",
      verb === "ack" ? "Yes, acknowledge" : "Yes, resolve");
    yes.type = "button";
    yes.id = "drawer-confirm";
    const no = el("button", "", "Cancel");
    no.type = "button";
    const problem = el("p", "error");
    problem.setAttribute("role", "alert");
    row.append(yes, no);
    panel.append(row, problem);
    box.replaceChildren(panel);
    yes.focus();
    no.addEventListener("click", () => box.replaceWith(actions(t)));
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      const response = await Console.postJson(`/api/tickets/${t.number}/${verb}`,
        note ? { note: note.value } : {});
      if (!response.ok) {
        yes.disabled = false;
        problem.textContent = `Not done: ${await response.text()}`;
        return;
      }
      await load(t.number);
    });
  }

  function render(data) {
    const t = data.ticket;
    title.textContent = `Ticket ${t.number}`;
    badges.replaceChildren(statusBadge(t.status), tierBadge(t.tier));
    if (t.emergency) badges.append(emergencyBadge());
    badges.dataset.status = t.status;
    body.replaceChildren(
      el("p", "", t.title),
      actions(t),
      facts(t),
      section("Caller's description", recordings(data.recordings)),
      section("SLA alerts", alerts(data.sla_alerts)),
      section("Paging log", pages(data.pages)),
      section("Audit trail", trail(data.audit)),
    );
  }

  async function load(number) {
    try {
      render(await Console.getJson(`/api/tickets/${encodeURIComponent(number)}`));
    } catch (error) {
      body.replaceChildren(el("p", "error", `Ticket ${number} could not be read.`));
    }
    for (const listener of listeners) listener(number);
  }

  function open(number) {
    current = String(number);
    opener = document.activeElement;
    title.textContent = `Ticket ${current}`;
    badges.replaceChildren();
    body.replaceChildren(el("p", "muted", "Loading…"));
    if (!dialog.open) dialog.showModal();
    document.getElementById("drawer-close").focus();
    load(current);
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  dialog.addEventListener("close", () => {
    const closed = current;
    current = null;
    for (const listener of listeners) listener(null);
    // Back to where the user was; the board may have redrawn that link meanwhile.
    const back = opener && opener.isConnected ? opener
      : document.querySelector(`a[data-ticket="${CSS.escape(closed || "")}"]`);
    if (back) back.focus();
  });
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) close(); // a click on the backdrop
  });
  document.getElementById("drawer-close").addEventListener("click", close);
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-ticket]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    open(link.dataset.ticket);
  });

  /** A link that opens the drawer (and works as a plain link without script). */
  function link(number, text) {
    const a = el("a", "ticket-link", text || `#${number}`);
    a.href = `/tickets#${number}`;
    a.dataset.ticket = number;
    return a;
  }

  /** /api/live said this ticket changed: show the new state if it is open here. */
  function changed(number) {
    if (current !== null && String(number) === current) load(current);
  }

  return { open, close, changed, link, current: () => current, onChange: (f) => listeners.push(f) };
})();
