// Helpers shared by the console's pages. Every value reaches the page through
// textContent (never innerHTML), so nothing a caller or a CSV carried is parsed as HTML.
"use strict";

const Console = (() => {
  const TIERS = { standard: "Standard", premium: "Premium", premium_plus: "Premium Plus" };
  const session = document.body.dataset;

  /** An element with a class and text (children may follow). */
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** h:mm:ss or m:ss. */
  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const r = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
  }

  /** A longer span in words: 2d 4h, 3h 05m, 12m. */
  function span(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d) return `${d}d ${h}h`;
    if (h) return `${h}h ${String(m).padStart(2, "0")}m`;
    return s >= 60 ? `${m}m` : `${s}s`;
  }

  // Times are shown in the support centre's zone (the page names it), not the browser's.
  const zone = session.tz || undefined;
  const dayOf = (t) => t.toLocaleDateString("en-CA", { timeZone: zone });

  /** A time of day in the centre's zone, with the day when it is not today. */
  function when(iso, now) {
    if (!iso) return "–";
    const t = new Date(iso);
    const time = t.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: zone });
    if (dayOf(t) === dayOf(new Date(now || Date.now()))) return time;
    return `${t.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: zone })} ${time}`;
  }

  /** Date and time in the centre's zone, to the second. */
  function stamp(iso) {
    if (!iso) return "–";
    const t = new Date(iso);
    return `${dayOf(t)} ${t.toLocaleTimeString("en-GB", { timeZone: zone })}`;
  }

  function tierBadge(tier) {
    return el("span", `badge tier-${tier || "unknown"}`, TIERS[tier] || tier || "no tier");
  }

  function emergencyBadge() {
    return el("span", "badge emergency", "EMERGENCY");
  }

  function statusBadge(status) {
    return el("span", `badge status-${status}`, status);
  }

  /** The SLA colour of a ticket: amber from its first alert mark (50 %), red from
   * the second (80 %) or when the due time passed. */
  function slaLevel(share, secondsLeft) {
    if (secondsLeft < 0 || share >= 0.8) return "red";
    if (share >= 0.5) return "amber";
    return "ok";
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (response.status === 401) {
      window.location.assign("/login");
      throw new Error("signed out");
    }
    if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  async function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf || "" },
      body: JSON.stringify(body || {}),
    });
  }

  /** Follow /api/live: calls onMessage(message) for each event, reconnects by itself. */
  function follow(onMessage, onTrouble) {
    let source = null;
    function open() {
      source = new EventSource("/api/live");
      source.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.kind === "resync") {
          source.close();
          open();
        }
        onMessage(message);
      };
      source.onerror = async () => {
        if (onTrouble) onTrouble();
        const response = await fetch("/api/me", { headers: { Accept: "application/json" } });
        if (response.status === 401) window.location.assign("/login");
      };
    }
    open();
  }

  return {
    TIERS, session, zone, el, duration, span, when, stamp, tierBadge, emergencyBadge, statusBadge,
    slaLevel, getJson, postJson, follow,
  };
})();
