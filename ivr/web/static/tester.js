// The call tester's keypad: builds the keys string (as `ivr call --dtmf` takes it),
// posts it with the CSRF token and shows the transcript. Values are written with
// textContent only.
"use strict";

const form = document.getElementById("tester-form");
const dtmf = document.getElementById("dtmf");

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
});

function item(parent, tag, text, cls) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (cls) el.className = cls;
  parent.appendChild(el);
  return el;
}

function describe(step) {
  switch (step.kind) {
    case "play":
      return step.words ? `hears ${step.prompt}: “${step.words}”` : `hears ${step.prompt}`;
    case "input":
      return `presses ${step.text}`;
    case "say":
      return `hears ${step.text}`;
    case "set":
      return `variable ${step.text}`;
    case "record":
      return `is recorded (${step.text})`;
    default:
      return `${step.kind} ${step.text}`.trim();
  }
}

function show(result) {
  const end = result.ends;
  let summary = `Route: ${end.route}`;
  if (end.queue) summary += ` · queue ${end.queue}`;
  if (end.oncall_dial) summary += ` · on-call ${end.oncall_dial}`;
  if (end.ticket) summary += ` · ticket ${end.ticket} (test, discarded)`;
  document.getElementById("call-end").textContent = summary;
  const rows = document.getElementById("call-end-rows");
  rows.replaceChildren();
  for (const [name, value] of Object.entries(result.variables)) {
    const tr = document.createElement("tr");
    item(tr, "th", name);
    item(tr, "td", value);
    rows.appendChild(tr);
  }
  const steps = document.getElementById("call-steps");
  steps.replaceChildren();
  for (const step of result.steps) item(steps, "li", describe(step), `step ${step.kind}`);
  const problems = document.getElementById("call-problems");
  problems.replaceChildren();
  for (const problem of result.problems) item(problems, "li", problem);
  document.getElementById("tester-result").hidden = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("tester-error");
  error.hidden = true;
  const data = new FormData(form);
  const button = document.getElementById("place-call");
  button.disabled = true;
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
      error.textContent = `The call could not be placed: ${await response.text()}`;
      error.hidden = false;
      return;
    }
    show(await response.json());
  } finally {
    button.disabled = false;
  }
});
