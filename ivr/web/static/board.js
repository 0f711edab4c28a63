// The live board, from the server-sent events of /api/live: the whole board first,
// then every change, in order (a separate fetch could answer with an older board
// than the events already shown). Tiles come from /api/summary (the IVR's own data,
// so they work without Asterisk), the SLA clock from /api/sla.
"use strict";

(() => {
  const { el, duration, span, when, stamp, tierBadge, emergencyBadge, slaLevel } = Console;
  const SLA_HOURS = { standard: 24, premium: 4, premium_plus: 2 };
  const MAX_ALERTS = 20;
  const state = {
    queues: new Map(), ami: null, configured: true, offset: 0, alerts: [],
    standings: new Map(), summary: null, seen: new Set(), loaded: false,
    sound: localStorage.getItem("ivr.sound") === "on", updated: null,
  };
  const now = () => Date.now() + state.offset;

  // ---- the AMI state line ----
  function renderAmi() {
    const line = document.getElementById("ami-state");
    const ami = state.ami;
    let cls = "ami";
    let text;
    if (!state.configured) {
      cls += " off";
      text = "Asterisk not configured · live queues off";
    } else if (!ami || ami.state === "none") {
      cls += " connecting";
      text = "Connecting to Asterisk…";
    } else if (ami.state === "up") {
      cls += " live";
      text = `Live · Asterisk connected since ${when(ami.since, now())}`;
    } else {
      cls += " stale";
      const why = ami.detail ? ` (${ami.detail})` : "";
      text = `Stale since ${ami.since ? stamp(ami.since) : "an unknown time"}: no link to Asterisk${why}`;
    }
    line.className = cls;
    line.textContent = text;
    line.dataset.state = !state.configured ? "off" : (ami ? ami.state : "none");
    document.getElementById("updated").textContent =
      `Times in ${Console.zone || "the centre's zone"}`;
  }

  // ---- tiles ----
  function tile(key, value, sub, level) {
    const box = document.getElementById(`tile-${key}`);
    box.querySelector(".value").textContent = value;
    box.querySelector(".sub").textContent = sub || "\u00a0";
    box.classList.toggle("bad", level === "bad");
    box.classList.toggle("warn", level === "warn");
  }

  function renderTiles() {
    const s = state.summary;
    const live = state.configured;
    const callers = [...state.queues.values()].flatMap((q) => q.callers);
    const emergencies = callers.filter((c) => c.emergency).length;
    if (live) {
      const longestNow = Math.max(0, ...callers.map((c) => (now() - Date.parse(c.joined_at)) / 1000));
      tile("waiting", String(callers.length),
        callers.length ? `${emergencies} emergency · longest ${duration(longestNow)}` : "nobody waiting",
        emergencies ? "bad" : "");
    } else {
      tile("waiting", "–", "needs Asterisk");
    }
    if (!s) return;
    tile("calls", String(s.calls_today),
      `${s.tickets_today} ticket${s.tickets_today === 1 ? "" : "s"} opened`);
    const t = s.tickets;
    tile("emergencies", String(t.emergencies_open), "not yet acknowledged", t.emergencies_open ? "bad" : "");
    tile("at_risk", String(t.at_risk), `past 80 % of SLA · ${t.overdue} overdue · ${t.open} open`,
      t.overdue ? "bad" : (t.at_risk ? "warn" : ""));
    const sla = s.sla_today;
    tile("sla_met", sla.compliance === null ? "–" : `${Math.round(sla.compliance * 100)}%`,
      `${sla.in_time} in time · ${sla.breached} breached · ${sla.pending} pending`,
      sla.breached ? "warn" : "");
    const q = s.queues;
    if (!live) {
      tile("service_level", "–", "needs Asterisk");
      tile("longest", "–", "needs Asterisk");
      return;
    }
    tile("service_level", q.service_level === null ? "–" : `${Math.round(q.service_level * 100)}%`,
      q.answered ? `of ${q.answered} answered, within target` : "no call answered yet");
    tile("longest", q.longest_wait_today === null ? "–" : duration(q.longest_wait_today),
      "longest wait in a queue today");
  }

  let summaryTimer = null;
  async function loadSummary() {
    clearTimeout(summaryTimer);
    summaryTimer = null;
    try {
      state.summary = await Console.getJson("/api/summary");
      renderTiles();
    } catch (error) { /* the next refresh tries again */ }
  }
  function soon() {
    if (summaryTimer === null) summaryTimer = setTimeout(loadSummary, 800);
  }

  // ---- queue cards ----
  function slaChip(c) {
    if (!c.sla_due) return null;
    const chip = el("span", "sla");
    chip.dataset.due = c.sla_due;
    const standing = state.standings.get(c.ticket);
    chip.dataset.share = standing ? standing.elapsed_share : "";
    chip.dataset.hours = SLA_HOURS[c.tier] || 24;
    return chip;
  }

  function callerItem(c) {
    const li = el("li", "caller" + (c.emergency ? " emergency" : ""));
    li.dataset.uniqueid = c.uniqueid;
    if (state.loaded && !state.seen.has(c.uniqueid)) li.classList.add("new");
    li.append(el("span", "pos", String(c.position)));
    const main = el("div");
    const line = el("div", "who-line");
    if (c.emergency) line.append(emergencyBadge());
    const name = c.reseller_name || (c.reseller ? `Reseller ${c.reseller}` : "Unidentified caller");
    line.append(el("span", "reseller", name));
    if (c.tier) line.append(tierBadge(c.tier));
    const detail = el("div", "detail");
    const part = (label, value) => {
      if (!value) return;
      const span_ = el("span", "", `${label} `);
      span_.append(el("b", "", value));
      detail.append(span_);
    };
    part("Customer", c.end_customer);
    part("Host ID", c.host_id);
    if (c.ticket) {
      const t = el("span", "", "Ticket ");
      t.append(Drawer.link(c.ticket, c.ticket));
      detail.append(t);
    }
    part("From", c.caller_name ? `${c.caller_id} (${c.caller_name})` : c.caller_id);
    if (c.ringing) part("Ringing", c.ringing);
    main.append(line, detail);
    const timers = el("div", "timers");
    const wait = el("span", "wait");
    wait.dataset.since = c.joined_at;
    wait.setAttribute("aria-label", "waiting");
    timers.append(wait);
    const sla = slaChip(c);
    if (sla) timers.append(sla);
    li.append(main, timers);
    return li;
  }

  function agentChip(a) {
    const key = String(a.state).replace(/\s+/g, "_");
    const reason = a.paused_reason ? ` (${a.paused_reason})` : "";
    const chip = el("li", `chip state-${key}`, `${a.name} · ${a.state}${reason}`);
    chip.title = `${a.interface} · ${a.calls_taken} calls taken`;
    return chip;
  }

  function queueCard(queue) {
    const card = el("article", "card qcard");
    card.dataset.queue = queue.name;
    const head = el("header");
    const h = el("h3", "", queue.name);
    h.id = `q-${queue.name}`;
    card.setAttribute("aria-labelledby", h.id);
    const count = el("span", "qcount", String(queue.callers.length));
    count.append(el("small", "", "waiting"));
    head.append(h, count);
    const t = queue.today || {};
    const stats = el("dl", "qstats");
    const stat = (name, value) => {
      const d = el("div");
      d.append(el("dt", "", name), el("dd", "", value));
      stats.append(d);
    };
    const available = queue.agents.filter((a) => a.state === "available").length;
    stat("Agents free", `${available}/${queue.agents.length}`);
    stat("Answered", String(t.answered || 0));
    stat("Abandoned", String(t.abandoned || 0));
    stat("Avg wait", duration(t.average_wait || 0));
    stat(`SL ${t.service_level_seconds || 0}s`,
      t.service_level === null || t.service_level === undefined ? "–" : `${Math.round(t.service_level * 100)}%`);
    card.append(head, stats);
    if (queue.callers.length) {
      const list = el("ol", "callers");
      list.setAttribute("aria-label", `Callers waiting in ${queue.name}`);
      list.append(...queue.callers.map(callerItem));
      card.append(list);
    } else {
      card.append(el("p", "empty", "No one waiting"));
    }
    const agents = el("ul", "agents");
    agents.setAttribute("aria-label", `Agents of ${queue.name}`);
    if (queue.agents.length) agents.append(...queue.agents.map(agentChip));
    else agents.append(el("li", "muted", "No agents logged in"));
    card.append(agents);
    return card;
  }

  function explain() {
    const box = el("div", "card explain");
    if (!state.configured) {
      box.append(el("h3", "", "Asterisk is not configured"),
        el("p", "", "Live queues and agents appear here once the service is given Asterisk's " +
          "manager interface (IVR_AMI_HOST). Everything else on this board comes from the " +
          "IVR's own data and is live now: calls, tickets, the SLA clock and its alerts."));
    } else {
      box.append(el("h3", "", "No queue seen yet"),
        el("p", "", "Queues appear as soon as Asterisk reports them."));
    }
    return box;
  }

  function renderQueues() {
    const main = document.getElementById("queues");
    // Emergencies first, then the longest queues: what needs eyes comes top left.
    const weight = (q) => [-q.callers.filter((c) => c.emergency).length, -q.callers.length, q.name];
    const names = [...state.queues.keys()].sort((a, b) => {
      const [x, y] = [weight(state.queues.get(a)), weight(state.queues.get(b))];
      return x[0] - y[0] || x[1] - y[1] || x[2].localeCompare(y[2]);
    });
    main.replaceChildren(...(names.length ? names.map((n) => queueCard(state.queues.get(n))) : [explain()]));
    announce();
    for (const q of state.queues.values()) for (const c of q.callers) state.seen.add(c.uniqueid);
    state.loaded = true;
    renderTiles();
    tick();
  }

  // ---- emergencies: an aria-live region and an optional sound ----
  let audio = null;
  function beep() {
    if (!state.sound) return;
    try {
      audio = audio || new AudioContext();
      const t = audio.currentTime;
      for (const [offset, freq] of [[0, 880], [0.25, 660], [0.5, 880]]) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.2, t + offset);
        gain.gain.exponentialRampToValueAtTime(0.001, t + offset + 0.22);
        osc.connect(gain).connect(audio.destination);
        osc.start(t + offset);
        osc.stop(t + offset + 0.23);
      }
    } catch (error) { /* no audio device: the banner still says it */ }
  }

  function announce() {
    const box = document.getElementById("announcer");
    const waiting = [...state.queues.values()].flatMap((q) =>
      q.callers.filter((c) => c.emergency).map((c) => ({ ...c, queue: q.name })));
    const keep = new Set(waiting.map((c) => `caller-${c.uniqueid}`));
    for (const p of [...box.children]) if (p.dataset.key.startsWith("caller-") && !keep.has(p.dataset.key)) p.remove();
    let fresh = false;
    for (const c of waiting) {
      const key = `caller-${c.uniqueid}`;
      if (box.querySelector(`[data-key="${CSS.escape(key)}"]`)) continue;
      const who = c.reseller_name || c.reseller || c.caller_id;
      const what = [c.end_customer, c.host_id && `Host ID ${c.host_id}`, c.ticket && `ticket ${c.ticket}`]
        .filter(Boolean).join(", ");
      const p = el("p", "", `Emergency waiting in ${c.queue}: ${who}${what ? `, ${what}` : ""}.`);
      p.dataset.key = key;
      box.append(p);
      if (state.loaded && !state.seen.has(c.uniqueid)) fresh = true;
    }
    if (fresh) beep();
  }

  function announceTicket(message) {
    const box = document.getElementById("announcer");
    const p = el("p", "", `New emergency ticket ${message.number} opened.`);
    p.dataset.key = `ticket-${message.number}`;
    box.append(p);
    beep();
    setTimeout(() => p.remove(), 60000);
  }

  const soundButton = document.getElementById("sound");
  function renderSound() {
    soundButton.setAttribute("aria-pressed", state.sound ? "true" : "false");
    soundButton.textContent = state.sound ? "Sound on emergencies: on" : "Sound on emergencies: off";
  }
  soundButton.addEventListener("click", () => {
    state.sound = !state.sound;
    localStorage.setItem("ivr.sound", state.sound ? "on" : "off");
    renderSound();
    if (state.sound) beep(); // a click lets the page play sound from now on
  });

  // ---- SLA alerts and the SLA clock ----
  function alertText(a) {
    const label = a.breach ? "SLA BREACHED" : `${a.label} of SLA used`;
    const parts = [`Ticket ${a.ticket}`, label, Console.TIERS[a.tier] || a.tier || ""];
    if (a.emergency) parts.push("EMERGENCY");
    parts.push(a.reseller_name || `reseller ${a.reseller || "–"}`, `Host ID ${a.host_id || "–"}`);
    if (a.end_customer) parts.push(a.end_customer);
    if (a.paged) parts.push(`paged: ${a.paged}`);
    return parts.filter(Boolean).join(" · ");
  }

  function renderAlerts() {
    const list = document.getElementById("sla-alert-list");
    list.replaceChildren(...state.alerts.map((a) => {
      const li = el("li", "sla-alert" + (a.breach ? " breach" : "") + (a.emergency ? " emergency" : ""));
      li.dataset.ticket = a.ticket;
      li.textContent = alertText(a);
      return li;
    }));
    document.getElementById("sla-alerts").hidden = state.alerts.length === 0;
  }

  function renderStandings() {
    const list = document.getElementById("sla-standings");
    const items = [...state.standings.values()].map((s) => {
      const li = el("li", "standing" + (s.emergency ? " emergency" : ""));
      li.dataset.ticket = s.ticket;
      const left = el("div");
      const head = el("div", "head");
      head.append(Drawer.link(s.ticket, `#${s.ticket}`));
      if (s.emergency) head.append(emergencyBadge());
      head.append(tierBadge(s.tier));
      const what = [s.end_customer, s.host_id && `Host ID ${s.host_id}`].filter(Boolean).join(" · ");
      left.append(head, el("div", "name", s.reseller_name || s.reseller || "–"), el("div", "what", what));
      const due = el("span", "sla");
      due.dataset.due = s.due;
      due.dataset.share = s.elapsed_share;
      const bar = el("div", "progress");
      const fill = el("span", slaLevel(s.elapsed_share, s.seconds_left));
      fill.className = slaLevel(s.elapsed_share, s.seconds_left);
      bar.append(fill);
      bar.setAttribute("role", "img");
      bar.setAttribute("aria-label", `${Math.round(s.elapsed_share * 100)}% of the SLA used`);
      fill.dataset.width = Math.min(100, Math.round(s.elapsed_share * 100));
      li.append(left, due, bar);
      return li;
    });
    if (!items.length) items.push(el("li", "muted", "No open ticket on the SLA clock."));
    list.replaceChildren(...items);
    // Widths through the CSSOM (allowed by the CSP, unlike style attributes).
    for (const fill of list.querySelectorAll(".progress > span")) fill.style.width = `${fill.dataset.width}%`;
    tick();
  }

  async function loadSla() {
    try {
      const data = await Console.getJson("/api/sla");
      state.standings = new Map(data.tickets.map((t) => [t.ticket, t]));
      renderStandings();
      renderQueues();
    } catch (error) { /* the next refresh tries again */ }
  }

  // ---- every second ----
  function tick() {
    const t = now();
    for (const node of document.querySelectorAll(".wait[data-since]")) {
      node.textContent = duration((t - Date.parse(node.dataset.since)) / 1000);
    }
    for (const node of document.querySelectorAll(".sla[data-due]")) {
      const left = (Date.parse(node.dataset.due) - t) / 1000;
      let share = parseFloat(node.dataset.share);
      if (Number.isNaN(share)) share = 1 - left / (3600 * parseFloat(node.dataset.hours || "24"));
      const level = slaLevel(share, left);
      node.className = `sla ${level}`;
      // To the second within a day (it visibly counts down), in days and hours beyond.
      const text = (s) => (s < 86400 ? duration(s) : span(s));
      node.textContent = left >= 0 ? `SLA ${text(left)}` : `SLA overdue ${text(-left)}`;
      node.setAttribute("aria-label", left >= 0 ? `SLA due in ${span(left)}` : `SLA overdue by ${span(-left)}`);
    }
  }

  // ---- the event stream ----
  function showBoard(board) {
    state.offset = Date.parse(board.server_time) - Date.now();
    state.queues = new Map(board.queues.map((q) => [q.name, q]));
    state.configured = board.ami.configured !== false;
    state.ami = board.ami;
    renderAmi();
    renderQueues();
  }

  Console.follow((message) => {
    if (message.kind === "board") {
      showBoard(message.board);
      loadSummary();
    } else if (message.kind === "queue") {
      state.queues.set(message.queue.name, message.queue);
      renderQueues();
      soon();
    } else if (message.kind === "ami") {
      state.ami = message.ami;
      renderAmi();
    } else if (message.kind === "sla_alert") {
      state.alerts = [message, ...state.alerts.filter((a) =>
        !(a.ticket === message.ticket && a.label === message.label))].slice(0, MAX_ALERTS);
      renderAlerts();
      loadSla();
      soon();
    } else if (message.kind === "ticket") {
      if (message.event === "created" && message.emergency) announceTicket(message);
      Drawer.changed(message.number);
      loadSla();
      soon();
    }
  }, () => {
    if (state.configured) {
      state.ami = { state: "down", since: new Date().toISOString(), detail: "no connection to the console's server" };
      renderAmi();
    }
  });

  renderSound();
  loadSla();
  setInterval(tick, 1000);
  setInterval(loadSla, 30000); // shares of SLA elapsed move with the clock
  setInterval(loadSummary, 15000);
})();
