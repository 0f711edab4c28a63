// The call tester: builds the keys string (as `ivr call --dtmf` takes it), posts it
// with the CSRF token and shows the call as a timeline, the IVR on one side and
// the caller on the other. Values are written with textContent only.
"use strict";

(() => {
  const form = document.getElementById("tester-form");
  const dtmf = document.getElementById("dtmf");
  const result = document.getElementById("tester-result");
  const placeholder = document.getElementById("tester-placeholder");
  const error = document.getElementById("tester-error");
  const status = document.getElementById("tester-status");

  function press(text) {
    dtmf.value += text;
    dtmf.focus();
  }
  for (const key of document.querySelectorAll("button.key")) {
    key.addEventListener("click", () => press(key.dataset.key));
  }
  // One space ends an answer; an answer left empty (two spaces) is a prompt timing out.
  document.getElementById("key-next").addEventListener("click", () => press(" "));
  document.getElementById("key-timeout").addEventListener("click", () => {
    press(dtmf.value === "" || dtmf.value.endsWith(" ") ? " " : "  ");
  });
  document.getElementById("key-clear").addEventListener("click", () => {
    dtmf.value = "";
    dtmf.focus();
  });

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Who acts in a step, and what the step says. */
  function describe(step) {
    switch (step.kind) {
      case "play":
        return ["ivr", "IVR plays", step.words ? `${step.prompt}: “${step.words}”` : step.prompt];
      case "say":
        return ["ivr", "IVR says", step.text];
      case "input":
        return ["caller", "Caller presses", step.text];
      case "record": // the file's name: where the tester's scratch recordings live is no news
        return ["caller", "Caller is recorded", step.text.split("/").pop()];
      case "variables":
      case "note": // what became of the ticket: opened, joined (repeat call), escalated
        return ["system", "", step.text];
      default:
        return ["system", "", `${step.kind} ${step.text}`.trim()];
    }
  }

  function chip(text, cls) {
    return el("span", `chip plain ${cls || ""}`.trim(), text);
  }

  function clear() {
    result.hidden = true;
    for (const id of ["call-end", "call-steps", "call-problems", "call-end-rows"]) {
      document.getElementById(id).replaceChildren();
    }
  }

  function show(data) {
    const end = data.ends;
    const chips = [chip(`Route: ${end.route}`, "route")];
    if (end.queue) chips.push(chip(`Queue: ${end.queue}${end.priority ? ` (priority ${end.priority})` : ""}`));
    if (end.oncall_dial) chips.push(chip(`On-call: ${end.oncall_dial}`));
    if (end.ticket) chips.push(chip(`Ticket: ${end.ticket_outcome || end.ticket} (test, discarded)`));
    const tiers = { standard: "Standard", premium: "Premium", premium_plus: "Premium Plus" };
    if (end.tier) chips.push(chip(`Tier: ${tiers[end.tier] || end.tier}`));
    if (data.hung_up_by) chips.push(chip(`Hung up by ${data.hung_up_by}`));
    document.getElementById("call-end").replaceChildren(...chips);
    const rows = document.getElementById("call-end-rows");
    rows.replaceChildren(...Object.entries(data.variables).map(([name, value]) => {
      const tr = el("tr");
      const th = el("th", "mono", name);
      th.scope = "row";
      tr.append(th, el("td", "mono", value));
      return tr;
    }));
    // Variables are listed once, in the table under the timeline, not step by step.
    const steps = data.steps.filter((step) => step.kind !== "set");
    const set = data.steps.length - steps.length;
    if (set) steps.push({ kind: "variables", text: `${set} channel variables set for the dialplan` });
    document.getElementById("call-steps").replaceChildren(...steps.map((step) => {
      const [side, who, text] = describe(step);
      const li = el("li", `step side-${side} ${step.kind}`);
      if (who) li.append(el("span", "actor", who));
      li.append(el("span", "", text));
      return li;
    }));
    // Said plainly when Redis failed during the call (what the caller got, what was kept).
    const note = document.getElementById("call-note");
    note.textContent = data.failed ? data.note : "";
    note.hidden = !note.textContent;
    document.getElementById("call-problems").replaceChildren(
      ...data.problems.map((problem) => el("li", "", problem)));
    placeholder.hidden = true;
    result.hidden = false;
    status.textContent = `Call placed: route ${end.route}.`;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const data = new FormData(form);
    const button = document.getElementById("place-call");
    button.disabled = true;
    button.textContent = "Calling…";
    try {
      const response = await fetch("/api/tester/call", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": data.get("csrf") },
        body: JSON.stringify({ caller: data.get("caller"), at: data.get("at"), dtmf: data.get("dtmf") }),
      });
      if (response.status === 401) {
        window.location.assign("/login");
        return;
      }
      if (!response.ok) {
        clear(); // a failed call never leaves the previous call's result on show
        placeholder.hidden = false;
        error.textContent = `The call could not be placed: ${await response.text()}`;
        error.hidden = false;
        return;
      }
      show(await response.json());
    } catch (failure) {
      clear();
      placeholder.hidden = false;
      error.textContent = "The call could not be placed: the server did not answer.";
      error.hidden = false;
    } finally {
      button.disabled = false;
      button.textContent = "Place the call";
    }
  });
})();
