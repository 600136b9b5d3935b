// The supervisors' dashboard: the figures of docs/metrics.md from /api/metrics (the same code as
// `python -m bot report`), charts with Chart.js, and the unanswered-questions loop.
// Customer text is only ever put on the page with textContent.
"use strict";

const state = { charts: {} };
const $ = (id) => document.getElementById(id);
// [metric, label, how to show it]: a count, a share, a median duration (seconds or hours) with its count.
const TILES = [
  ["conversations", "Conversations", "count"], ["containment_rate", "Containment", "share"],
  ["handoff_rate", "Handoff rate", "share"], ["faq_answer_rate", "FAQ answer rate", "share"],
  ["fallback_rate", "Fallback rate", "share"], ["complaints", "Complaints", "count"],
  ["csat_mean", "CSAT (1-5)", "csat"], ["csat_response_rate", "CSAT response rate", "share"],
  ["time_to_first_agent_response_seconds", "First agent response (median)", "seconds"],
  ["complaint_resolution_hours", "Complaint resolution (median)", "hours"],
];
const CHANNELS = { widget: "Web chat", telegram: "Telegram", whatsapp: "WhatsApp", wechat: "WeChat", email: "Email",
  rest: "REST API", callback: "Callback (your app)" };

function show(totals, key, kind) {
  const value = totals[key];
  if (kind === "csat") return value === null ? "–" : `${value} | ${totals.csat_responses} rated`;
  if (kind === "seconds" || kind === "hours") {
    if (!value || !value.count) return "–";
    const time = (v) => kind === "hours" ? `${Number(v).toFixed(1)} h`
      : v < 60 ? `${Math.round(v)} s` : `${Math.floor(v / 60)} min ${Math.round(v % 60)} s`;
    const met = value.within_target === null || value.within_target === undefined ? ""
      : ` · ${(100 * value.within_target).toFixed(0)}% within ${time(value.target)}`;  // data/service_levels.yml
    return `${time(value.median)} | n=${value.count}${met}`;  // the figure, then its detail line
  }
  if (value === null || value === undefined) return "–";
  return kind === "share" ? `${(value * 100).toFixed(1)}%` : String(value);
}

function query() {
  const params = new URLSearchParams();
  if ($("since").value) params.set("since", $("since").value);
  if ($("until").value) {  // the form's "to" day is inclusive; the API's until is exclusive
    const next = new Date(`${$("until").value}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    params.set("until", next.toISOString().slice(0, 10));
  }
  if ($("channel").value) params.set("channel", $("channel").value);
  return params.toString();
}

function table(id, header, rows) {
  const head = el("tr");
  header.forEach((h) => head.append(el("th", h)));
  $(id).replaceChildren(head, ...rows.map((cells) => {
    const row = el("tr");
    cells.forEach((c) => row.append(c instanceof Node ? wrap(c) : el("td", c)));
    return row;
  }));
}

function wrap(node) { const cell = el("td"); cell.append(node); return cell; }

function chart(id, config) {
  if (state.charts[id]) state.charts[id].destroy();
  state.charts[id] = new window.Chart($(id), config);
}

// Nothing of an earlier range stays on the page after an error or for an empty range.
function clearReport() {
  $("tiles").replaceChildren();
  Object.values(state.charts).forEach((c) => c.destroy());
  state.charts = {};
  ["top-faq", "complaints-category", "complaints-status", "unanswered"].forEach((id) => $(id).replaceChildren());
}

function render(report) {
  const totals = report.totals;
  const empty = !totals.conversations;
  $("empty-range").hidden = !empty;
  $("empty-range").textContent = empty ? `No conversations from ${$("since").value || "the start"} to ${$("until").value || "today"}`
    + `${report.channel ? " on " + (CHANNELS[report.channel] || report.channel) : ""}.` : "";
  $("charts").hidden = empty;
  $("tiles").replaceChildren(...TILES.map(([key, label, kind]) => {
    const tile = el("div"); tile.className = "tile"; tile.dataset.metric = key;
    const [shown, detail] = show(totals, key, kind).split(" | ");
    const value = el("div", shown); value.className = "value";
    const name = el("div", label); name.className = "label";
    tile.append(value, name);
    if (detail) { const more = el("div", detail); more.className = "label detail"; tile.append(more); }
    return tile;
  }));
  const days = [...new Set(report.by_day_channel.map((r) => r.day))].sort();
  const perDay = days.map((day) => report.by_day_channel.filter((r) => r.day === day));
  const sum = (rows, key) => rows.reduce((total, r) => total + (r[key] || 0), 0);
  chart("daily", {
    type: "bar",
    data: { labels: days, datasets: [
      { label: "conversations", data: perDay.map((rows) => sum(rows, "conversations")), backgroundColor: "#93c5fd", yAxisID: "y",
        order: 2 },
      { label: "containment %", type: "line", borderColor: "#16a34a", yAxisID: "rate", order: 1,  // drawn over the bars
        data: perDay.map((rows) => { const n = sum(rows, "conversations"); return n ? 100 * (n - sum(rows, "conversations_with_handoff")) / n : null; }) },
    ] },
    options: { animation: false, scales: { y: { beginAtZero: true, title: { display: true, text: "conversations" } },
      rate: { position: "right", min: 0, max: 100, title: { display: true, text: "containment %" } } } },
  });
  const reasons = Object.entries(totals.handoff_rate_by_reason);
  chart("reasons", {
    type: "bar",
    data: { labels: reasons.map(([r]) => r.replace(/_/g, " ")),
      datasets: [{ label: "% of conversations", data: reasons.map(([, v]) => 100 * v), backgroundColor: "#fca5a5" }] },
    options: { animation: false, indexAxis: "y", plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, title: { display: true, text: "% of conversations" } } } },
  });
  table("top-faq", ["question", "answers"], report.top_faq_entries.map((e) => {
    const question = el("span", e.question || e.faq_id);
    question.title = e.faq_id;  // the entry's id, for editing data/faq/
    return [question, e.answers];
  }));
  table("complaints-category", ["category", "complaints"], Object.entries(totals.complaints_by_category));
  table("complaints-status", ["status", "complaints"], Object.entries(totals.complaints_by_status));
}

async function renderUnanswered() {
  const found = await api(`/api/unanswered?${query()}`);
  const more = found.groups_total > found.groups.length
    ? ` The ${found.groups.length} most frequent of ${found.groups_total} groups.` : "";
  $("bound").textContent = `Bound: ${found.bound}.${more}`;
  table("unanswered", ["asked", "question and wordings", "make it knowledge"], found.groups.map((group) => {
    const text = el("div");
    text.className = "group";
    text.append(el("div", group.question));
    const examples = el("div", group.examples.join(" · ")); examples.className = "examples";
    const why = el("div", "Listed because: " + Object.entries(group.why).map(([reason, n]) => `${n} × ${reason}`)
      .join(", ")); why.className = "why";
    text.append(examples, why);
    const actions = el("div");
    const entry = group.closest_entry;
    if (entry) {
      const add = el("button", `Add to “${entry.question}”…`);
      add.type = "button";
      add.title = `${entry.agree} of ${entry.of} wordings find this entry first`;
      add.addEventListener("click", () => openKbDialog("add", group));
      actions.append(add, el("div", `${entry.agree} of ${entry.of} wordings find it first`, "why"));
    } else {
      actions.append(el("div", "No entry is the first answer for most of these wordings.", "why"));
    }
    const create = el("button", "New FAQ entry…");
    create.type = "button";
    create.addEventListener("click", () => openKbDialog("new", group));
    actions.append(create);
    return [group.count, text, actions];
  }));
}

// --- writing to the knowledge base: choose wordings, preview the exact edit, confirm, rebuild ----

const kb = { mode: null, group: null };

function openKbDialog(mode, group) {
  Object.assign(kb, { mode, group });
  $("kb-title").textContent = mode === "add" ? `Add wordings to “${group.closest_entry.question}”` : "New FAQ entry";
  $("kb-entry").hidden = mode !== "new";
  $("kb-question").value = group.question;
  ["kb-id", "kb-category", "kb-answer", "kb-more"].forEach((id) => { $(id).value = ""; });
  $("kb-wordings").replaceChildren(...group.members.slice(0, 50).map((wording, n) => {
    const item = el("li");
    const box = document.createElement("input");
    box.type = "checkbox"; box.checked = true; box.id = `kb-wording-${n}`; box.value = wording;
    const label = el("label", wording); label.htmlFor = box.id;
    item.append(box, label);
    return item;
  }));
  $("kb-diff").textContent = "";
  $("kb-status").textContent = "";
  $("kb-confirm").disabled = true;
  $("kb-dialog").showModal();
}

function kbRequest(preview) {
  const wordings = [...$("kb-wordings").querySelectorAll("input:checked")].map((box) => box.value);
  if (kb.mode === "new") wordings.push(...$("kb-more").value.split("\n").map((w) => w.trim()).filter(Boolean));
  if (kb.mode === "add") return ["/api/kb/paraphrases", { entry_id: kb.group.closest_entry.id, paraphrases: wordings, preview }];
  return ["/api/kb/entries", { id: $("kb-id").value.trim(), category: $("kb-category").value.trim(),
    question: $("kb-question").value.trim(), answer: $("kb-answer").value.trim(), paraphrases: wordings, preview }];
}

async function previewKb() {
  const [path, body] = kbRequest(true);
  try {
    const edit = await api(path, { method: "POST", body: JSON.stringify(body) });
    $("kb-diff").textContent = edit.diff;
    $("kb-status").textContent = `Confirm to write this to data/faq/${edit.file}.`;
    $("kb-confirm").disabled = false;
  } catch (error) { $("kb-status").textContent = `Not possible: ${error.message || error}`; }
}

async function confirmKb() {
  const [path, body] = kbRequest(false);
  $("kb-confirm").disabled = true;
  try {
    const edit = await api(path, { method: "POST", body: JSON.stringify(body) });
    $("kb-status").textContent = `Written to data/faq/${edit.written}. Rebuilding the index…`;
    await waitForRebuild();
  } catch (error) { $("kb-status").textContent = `Not written: ${error.message || error}`; }
}

async function waitForRebuild() {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const build = await api("/api/kb/rebuild");
    if (build.state === "running") continue;
    if (build.state === "failed") { $("kb-status").textContent = `The index was not rebuilt: ${build.error}`; return; }
    const limits = Object.entries(build.thresholds || {}).map(([space, t]) =>
      `${space}: answer from ${Number(t.answer).toFixed(2)}, suggest from ${Number(t.suggest).toFixed(2)}`).join("; ");
    $("kb-status").textContent = `Index rebuilt: version ${build.version}, ${build.entries} entries; `
      + `thresholds recalibrated (${limits || "on the KB's own wordings"}).`;
    return;
  }
}

async function refresh(event) {
  if (event) event.preventDefault();
  try {
    $("error").textContent = "";
    render(await api(`/api/metrics?${query()}`));
    await renderUnanswered();
  } catch (error) {
    clearReport();
    $("error").textContent = `Could not load the figures: ${error.message || error}`;
  }
}

// --- canned replies (bot/console/canned.py): the whole list, edited here and saved at once ------

function cannedRow(reply) {
  const row = el("tr");
  const field = (tag, value, label) => {
    const input = document.createElement(tag);
    input.value = value || "";
    input.setAttribute("aria-label", label);
    if (tag === "textarea") input.rows = 2;
    const cell = el("td"); cell.append(input); row.append(cell);
    return input;
  };
  field("input", reply.title, "Title").className = "title";
  field("input", reply.team, "Team (a skill, empty for everyone)").className = "team";
  field("textarea", reply.text, "Text").className = "text";
  const remove = el("button", "Remove"); remove.type = "button";
  remove.addEventListener("click", () => row.remove());
  row.append(wrap(remove));
  return row;
}

async function loadCanned() {
  const found = await api("/api/canned-replies");
  const head = el("tr");
  ["title", "team", "text", ""].forEach((h) => head.append(el("th", h)));
  $("canned-table").replaceChildren(head, ...found.replies.map(cannedRow));
}

async function saveCanned() {
  const replies = [...$("canned-table").querySelectorAll("tr")].slice(1).map((row) => ({
    title: row.querySelector(".title").value, team: row.querySelector(".team").value || null,
    text: row.querySelector(".text").value }));
  try {
    const saved = await api("/api/canned-replies", { method: "PUT", body: JSON.stringify({ replies }) });
    $("canned-status").textContent = `Saved: ${saved.replies.length} replies.`;
  } catch (error) { $("canned-status").textContent = `Not saved: ${error.message || error}`; }
}

async function start() {
  const me = await api("/api/me");
  session.csrf = me.csrf_token;
  $("me").textContent = `${me.agent.username} (${me.agent.role})`;
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
  $("since").value = monthAgo;
  $("until").value = today;
  Object.entries(CHANNELS).forEach(([value, name]) => {
    const option = el("option", name); option.value = value; $("channel").append(option);
  });
  $("filters").addEventListener("submit", refresh);
  $("kb-preview").addEventListener("click", previewKb);
  $("kb-confirm").addEventListener("click", confirmKb);
  $("kb-cancel").addEventListener("click", () => $("kb-dialog").close());
  ["kb-id", "kb-category", "kb-question", "kb-answer", "kb-more", "kb-wordings"].forEach((id) =>  // changed: preview again
    $(id).addEventListener("input", () => { $("kb-confirm").disabled = true; }));
  $("canned-add").addEventListener("click", () => $("canned-table").append(cannedRow({})));
  $("canned-save").addEventListener("click", saveCanned);
  loadCanned().catch((error) => { $("canned-status").textContent = String(error.message || error); });
  await refresh();
}

start().catch((error) => { $("error").textContent = String(error.message || error); });
