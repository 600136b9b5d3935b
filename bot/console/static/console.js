// The agent console page. Everything the customer typed is put on the page with
// textContent (never innerHTML), so markup in a message shows as text and never runs.
"use strict";

const REASONS = {
  customer_asked: "asked for a person",
  faq_unknown: "bot didn't know the answer",
  not_understood: "bot failed twice",
  urgent_complaint: "urgent complaint",
};
const CHANNEL_NAMES = { widget: "web chat", telegram: "Telegram", whatsapp: "WhatsApp", wechat: "WeChat",
  email: "email", rest: "REST", callback: "callback" };
// The customer's language, as the bot detected it (or the customer chose it).
const LANGUAGES = { en: "English", zh: "Chinese 中文" };
const languageOf = (handoff) => handoff.language ? LANGUAGES[handoff.language] || handoff.language : "";
const state = { me: null, openId: null, wantedId: null, openRecordId: null, seen: new Set(), firstSnapshot: true,
  audio: null, snapshot: { queue: [], active: [] }, typingSentAt: 0, suggestedFor: null };
const DRAFT_POLL_MS = 1500;   // the customer's draft, while a chat is open (bot/rasa_server/channels/live_typing.py)
const TYPING_EVERY_MS = 3000; // "agent is typing" at most this often while the agent types

const $ = (id) => document.getElementById(id);

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function showError(error) {
  $("error").textContent = error ? String(error.message || error) : "";
}

// --- the queue and my chats, live -------------------------------------------------------

function handoffItem(handoff) {
  const item = el("li", null, handoff.status === "ticket" ? "ticket" : "");
  item.dataset.id = handoff.id;
  if (handoff.id === state.openId) item.classList.add("open");
  item.append(el("div", `Customer ${handoff.customer_id}`, "who"));
  const place = handoff.status === "waiting" ? `#${handoff.queue_position} waiting` : handoff.status;
  const agent = handoff.agent && handoff.status === "active" ? ` · ${handoff.agent}` : "";
  item.append(el("div", `${REASONS[handoff.reason] || handoff.reason} · ${place}${agent}`, "meta"));
  const language = languageOf(handoff) ? ` · ${languageOf(handoff)}` : "";
  item.append(el("div", `${handoff.channel}${handoff.skill ? " · " + handoff.skill : ""}${language} · ${when(handoff.created_at)}`, "meta"));
  if (handoff.message) item.append(el("div", handoff.message, "meta"));
  const since = handoff.status === "active" ? handoff.waiting_since : handoff.status === "closed" ? null : handoff.created_at;
  if (since) {  // how long the customer has waited: in the queue, or for a reply (data/service_levels.yml)
    const wait = el("div", "", "sla");
    wait.dataset.since = since;
    wait.dataset.kind = handoff.status === "active" ? "reply_wait_seconds" : "queue_wait_seconds";
    item.append(wait);
  }
  return pressable(item, `Open the chat with customer ${handoff.customer_id}`, () => openHandoff(handoff.id));
}

// Every second: each wait's time, amber from `warn`, red from `alarm`.
function tickWaits() {
  const levels = state.snapshot.service_levels;
  document.querySelectorAll(".sla").forEach((node) => {
    const seconds = Math.max(0, Math.floor((Date.now() - new Date(node.dataset.since)) / 1000));
    const level = levels ? levels[node.dataset.kind] : null;
    const where = node.dataset.kind === "reply_wait_seconds" ? "for a reply" : "in the queue";
    node.textContent = `waiting ${where} ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    node.classList.toggle("alarm", !!level && seconds >= level.alarm);
    node.classList.toggle("warn", !!level && seconds >= level.warn && seconds < level.alarm);
  });
}

// A list item that works like a button from the keyboard too: Tab reaches it, Enter or Space
// acts. The button is inside the item, so the list stays a list for screen readers.
function pressable(item, label, action) {
  const target = el("div", null, "press");
  target.append(...item.childNodes);
  item.append(target);
  target.tabIndex = 0;
  target.setAttribute("role", "button");
  target.setAttribute("aria-label", label);
  target.addEventListener("click", action);
  target.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); action(); }
  });
  return item;
}

// --- search: past chats by words, customer, complaint reference, channel and dates -----------

async function searchChats(event) {
  event.preventDefault();
  const params = new URLSearchParams();
  [["q", "search-q"], ["channel", "search-channel"], ["since", "search-since"], ["until", "search-until"]]
    .forEach(([name, id]) => { if ($(id).value.trim()) params.set(name, $(id).value.trim()); });
  if (![...params.keys()].length) { $("search-results").replaceChildren(); return; }
  try {
    showError(null);
    const found = await api(`/api/search?${params}`);
    $("search-results").replaceChildren(...found.results.map((h) => {
      const item = handoffItem(h);
      if (h.matched) item.append(el("div", `“${h.matched}”`, "meta matched"));
      return item;
    }));
    if (!found.results.length) $("search-results").append(el("li", "no chats found", "none"));
  } catch (error) { showError(error); }
}

function renderLists(snapshot) {
  state.snapshot = snapshot;
  $("queue").replaceChildren(...snapshot.queue.map(handoffItem));
  $("active").replaceChildren(...snapshot.active.map(handoffItem));
  tickWaits();
  $("queue-count").textContent = String(snapshot.queue.length);
  $("team-section").hidden = !snapshot.team;
  if (snapshot.team) {
    $("team").replaceChildren(...snapshot.team.map((a) => el("li",
      `${a.username} (${a.role}) · ${a.availability}${a.console_open ? "" : ", console closed"}`
      + ` · ${a.active_chats}/${a.capacity} chats${a.routable ? " · takes chats" : ""}`)));
  }
}

function alertNewArrivals(snapshot) {
  const mine = snapshot.active.filter((h) => h.agent_id === state.me.id);
  const fresh = [...snapshot.queue, ...mine].filter((h) => !state.seen.has(h.id));
  fresh.forEach((h) => state.seen.add(h.id));
  if (state.firstSnapshot || fresh.length === 0) return;
  beep();
  if ("Notification" in window && Notification.permission === "granted") {
    const h = fresh[0];
    new Notification("New customer waiting", { body: `${REASONS[h.reason] || h.reason} (${h.channel})`, tag: `handoff-${h.id}` });
  }
}

function beep() {
  if (!state.audio) return;
  const oscillator = state.audio.createOscillator();
  const gain = state.audio.createGain();
  oscillator.frequency.value = 880;
  gain.gain.value = 0.1;
  oscillator.connect(gain).connect(state.audio.destination);
  oscillator.start();
  oscillator.stop(state.audio.currentTime + 0.25);
}

function listen() {
  const events = new EventSource("/api/stream");
  events.addEventListener("open", () => { $("connection").textContent = "live"; $("connection").classList.add("live"); });
  events.addEventListener("error", () => { $("connection").textContent = "reconnecting…"; $("connection").classList.remove("live"); });
  events.addEventListener("logout", () => { window.location.href = "/login"; });
  events.addEventListener("snapshot", (event) => {
    const snapshot = JSON.parse(event.data);
    alertNewArrivals(snapshot);
    state.firstSnapshot = false;
    renderLists(snapshot);
    const open = [...snapshot.active, ...snapshot.queue].find((h) => h.id === state.openId);
    // Not while the agent's pick of another chat is loading: that chat is the one to show.
    if (state.openId !== null && state.wantedId === state.openId
        && (!open || (open.latest_record_id && open.latest_record_id !== state.openRecordId)
        || (open && open.status !== state.openStatus))) {
      openHandoff(state.openId, false);
    }
  });
}

// --- one conversation ---------------------------------------------------------------------

async function openHandoff(id, focus = true) {
  // The chat asked for last wins: a slower answer for a chat asked for earlier (a live refresh
  // of the one being left) must not replace it. CI saw exactly that: a click lost to a refresh.
  state.wantedId = id;
  try {
    const pop = await api(`/api/handoffs/${id}`);
    if (state.wantedId !== id) return;
    if (focus) showError(null);  // an old failure is not about this chat
    state.openId = id;
    state.openStatus = pop.handoff.status;
    renderChat(pop);
    renderLists(state.snapshot);
    if (focus) $("reply").focus();
  } catch (error) {
    if (state.wantedId === id) state.wantedId = state.openId;  // live refreshes of the open chat go on
    showError(error);
  }
}

function renderChat(pop) {
  const h = pop.handoff;
  state.pop = pop;
  $("empty").hidden = true;
  $("chat").hidden = false;
  $("chat-title").textContent = `Customer ${h.customer_id}`;
  $("chat-meta").textContent = `${REASONS[h.reason] || h.reason} · ${h.status}${h.agent ? " (" + h.agent + ")" : ""}`
    + ` · ${h.channel}${languageOf(h) ? " · speaks " + languageOf(h) : ""} · conversation ${h.conversation_id}`
    + ` · since ${when(h.created_at)}${h.status === "closed" ? " · closed " + when(h.closed_at) + ", read-only" : ""}`;
  $("chat-message").textContent = (h.message ? `Message left: ${h.message}` : "")
    + (h.contact_email ? ` · your answer is also emailed to ${h.contact_email}` : "");
  $("chat-identity").textContent = pop.verified_emails.length
    ? `Verified: ${pop.verified_emails.join(", ")}${pop.linked_customers.length ? " · also " + pop.linked_customers.join(", ") : ""}`
    : "Email not verified";
  const mine = h.status === "active" && (h.agent_id === state.me.id || state.me.role === "supervisor");
  $("claim").disabled = !(h.status === "waiting" || h.status === "ticket");
  // A supervisor's pick: another agent's chat becomes theirs (the reason is kept as a note).
  $("take-over").hidden = !(state.me.role === "supervisor" && h.status === "active" && h.agent_id !== state.me.id);
  $("to-bot").disabled = !mine;
  $("close").disabled = !mine;
  $("send").disabled = !mine;
  $("note").disabled = !mine;
  $("transfer").hidden = !mine;
  if (!mine) $("transfer").open = false;
  $("reply").disabled = !mine;
  const transcript = pop.transcript.map((r) => {
    if (r.note_by) {  // an internal note: the team's, never sent to the customer
      const note = el("li", null, "note");
      note.append(el("span", `Internal note by ${r.note_by} · ${when(r.created_at)}`, "meta"));
      note.append(el("span", ownWording(r) || r.text || "", "text"));
      return note;
    }
    const item = el("li", null, r.actor);
    item.append(el("span", `${r.actor} · ${CHANNEL_NAMES[r.channel] || r.channel}${r.intent ? " · " + r.intent : ""}`
      + ` · ${when(r.created_at)}`, "meta"));  // the channel of each message: one customer, several channels
    item.append(el("span", r.shown || ownWording(r) || r.text || "", "text"));
    if (r.offered && r.offered.length) item.append(el("span", `Offered: ${r.offered.join(" · ")}`, "offered"));
    if (r.attachment) item.append(fileLink(r.attachment, (r.text || "").startsWith("[photo:")));
    return item;
  });
  $("transcript").replaceChildren(...transcript);
  $("transcript").scrollTop = $("transcript").scrollHeight;
  state.openRecordId = pop.transcript.length ? pop.transcript[pop.transcript.length - 1].id : null;
  const filesOf = (reference) => pop.files.filter((f) => f.complaint_ref === reference).length;
  $("complaints").replaceChildren(...pop.complaints.map((c) =>
    el("li", `${c.reference} · ${c.status} · ${c.priority} · ${c.category || "other"}`
      + `${c.order_ref ? " · order " + c.order_ref : ""}${c.contact ? " · contact " + c.contact : ""}`
      + `${filesOf(c.reference) ? " · 📎 " + filesOf(c.reference) + " file(s)" : ""}: ${c.description || ""}`)));
  $("earlier").replaceChildren(...pop.earlier_conversations.map((c) =>
    el("li", `${when(c.started_at)} · ${c.channel} · ${c.turns} turns: “${c.opening || ""}”`)));
  $("earlier-handoffs").replaceChildren(...pop.earlier_handoffs.map((e) =>
    el("li", `${when(e.created_at)} · ${REASONS[e.reason] || e.reason} · ${e.status}${e.rating ? " · rated " + e.rating + "/5" : ""}`)));
  renderVisitor(pop.visitor);
  renderFiles(pop.files);
  $("summary").replaceChildren(...pop.summary.map((line) => el("li", line)));
  suggestAnswers(pop.transcript, mine);
  if (!pop.complaints.length) $("complaints").append(el("li", "none"));
  if (!pop.earlier_conversations.length) $("earlier").append(el("li", "none"));
  if (!pop.earlier_handoffs.length) $("earlier-handoffs").append(el("li", "none"));
}

// A file the customer sent: served by the console behind its login, with the type found by content.
function fileLink(url, photo) {
  const link = el("a", photo ? "" : "Open the file", "file");
  link.href = url;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  if (photo) {
    const image = document.createElement("img");
    image.src = url;
    image.alt = "the customer's photo";
    image.className = "thumb";
    link.append(image);
  }
  return link;
}

function renderFiles(files) {
  $("files").replaceChildren(...files.map((f) => {
    const item = el("li", "");
    const link = fileLink(f.url, false);
    link.textContent = `${f.name} (${f.kind}, ${Math.ceil(f.size / 1024)} KB)`
      + `${f.complaint_ref ? " · complaint " + f.complaint_ref : ""}`;
    item.append(link);
    return item;
  }));
  if (!files.length) $("files").append(el("li", "none"));
}

// Where a widget customer is on the shop's site (bot/domain/visitors.py).
function renderVisitor(visitor) {
  if (!visitor) { $("visitor").replaceChildren(el("li", "no pages reported (not the web widget)")); return; }
  const page = (p) => `${p.title || p.url}`;
  const items = [
    el("li", `Now on: ${page(visitor.current_page)}`),
    el("li", `This visit: ${visitor.this_visit.map(page).join(" → ")}`),
    el("li", `Came from: ${visitor.came_from || "direct"}`),
    el("li", `Device: ${visitor.device || "unknown"}`),
    el("li", visitor.returning ? `Returning visitor (${visitor.earlier_visits} earlier visit${visitor.earlier_visits === 1 ? "" : "s"})` : "First visit"),
  ];
  items[0].title = visitor.current_page.url;
  $("visitor").replaceChildren(...items);
}

async function act(path, body) {
  if (state.openId === null) return;  // no chat is open: nothing to act on
  showError(null);
  try {
    await api(path, { method: "POST", body: JSON.stringify(body || {}) });
    await openHandoff(state.openId);
  } catch (error) { showError(error); }
}

// --- canned replies: placeholders filled from what the chat knows; what it cannot fill stays,
// selected for the agent to type over, and Send waits until none is left ----------------------

const PLACEHOLDER_NAMES = /\{(customer_name|order_number|agent_name)\}/;

function fillPlaceholders(text) {
  const pop = state.pop || { complaints: [], transcript: [] };
  const mentioned = pop.transcript.filter((r) => r.actor === "customer").map((r) => (r.text || "").match(/\bBC-\d{6}\b/i))
    .filter(Boolean).pop();
  const values = {
    agent_name: state.me.username,
    order_number: (pop.complaints.find((c) => c.order_ref) || {}).order_ref || (mentioned ? mentioned[0].toUpperCase() : ""),
    customer_name: "",  // no channel tells us a name we may rely on: the agent types it
  };
  return text.replace(/\{(\w+)\}/g, (whole, name) => values[name] || whole);
}

function insertCanned(text) {
  const reply = $("reply");
  reply.value = fillPlaceholders(text);
  reply.focus();
  const left = reply.value.match(PLACEHOLDER_NAMES);
  if (left) reply.setSelectionRange(left.index, left.index + left[0].length);
}

// The records keep personal data redacted ("[email]"); the agent who wrote a message in this tab
// sees their own words (kept in sessionStorage, never sent anywhere), not the placeholders.
const SENT_KEY = "brightcart-console-sent";
const PLACEHOLDER = /\[(email|phone|card|number)\]/;

function rememberSent(text) {
  const sent = JSON.parse(sessionStorage.getItem(SENT_KEY) || "[]").concat([text]).slice(-50);
  sessionStorage.setItem(SENT_KEY, JSON.stringify(sent));
}

function ownWording(record) {
  if (record.actor !== "agent" || !PLACEHOLDER.test(record.text || "")) return null;
  const pattern = new RegExp("^" + record.text.split(/\[(?:email|phone|card|number)\]/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".+?") + "$", "s");
  return JSON.parse(sessionStorage.getItem(SENT_KEY) || "[]").reverse().find((text) => pattern.test(text)) || null;
}

async function send(event) {
  event.preventDefault();
  const text = $("reply").value.trim();
  if (!text || state.openId === null) return;
  const unfilled = text.match(PLACEHOLDER_NAMES);
  if (unfilled) { showError(new Error(`Fill in ${unfilled[0]} before sending.`)); return; }
  $("send").disabled = true;
  try {
    showError(null);
    rememberSent(text);
    const result = await api(`/api/handoffs/${state.openId}/messages`, { method: "POST", body: JSON.stringify({ text }) });
    if (result.detail !== "sent") showError(new Error(`Your message was ${result.detail}.`));
    $("reply").value = "";
    await openHandoff(state.openId);
  } catch (error) { showError(error); } finally { $("send").disabled = false; }
}

// --- transfer: to an agent taking chats now, or back to the queue for a skill ----------------

async function loadTransferTargets() {
  if (!$("transfer").open) return;
  try {
    const targets = await api("/api/transfer-targets");
    const option = (value, text) => { const o = el("option", text); o.value = value; return o; };
    $("transfer-to").replaceChildren(
      ...targets.agents.map((a) => option(`agent:${a.username}`, `${a.username} (${a.free_seats} free seat${a.free_seats === 1 ? "" : "s"})`)),
      ...targets.skills.map((skill) => option(`skill:${skill}`, `the ${skill} queue`)));
  } catch (error) { showError(error); }
}

async function transferChat(event) {
  event.preventDefault();
  const [kind, name] = $("transfer-to").value.split(/:(.*)/s);
  const body = { reason: $("transfer-reason").value.trim(), [kind === "agent" ? "to_agent" : "to_skill"]: name };
  if (!name || !body.reason || state.openId === null) return;
  showError(null);
  try {
    await api(`/api/handoffs/${state.openId}/transfer`, { method: "POST", body: JSON.stringify(body) });
    $("transfer").open = false;
    $("transfer-reason").value = "";
    await openHandoff(state.openId);
  } catch (error) { showError(error); }
}

// An internal note on the open chat: recorded for the team, never sent to the customer.
async function addNote() {
  const text = $("reply").value.trim();
  if (!text || state.openId === null) return;
  $("note").disabled = true;
  try {
    showError(null);
    rememberSent(text);
    await api(`/api/handoffs/${state.openId}/notes`, { method: "POST", body: JSON.stringify({ text }) });
    $("reply").value = "";
    await openHandoff(state.openId);
  } catch (error) { showError(error); $("note").disabled = false; }
}

// Agent assist: the knowledge base's best answers to the customer's latest question, one click
// (or Enter) to put into the reply, to edit before sending.
const NOT_QUESTIONS = new Set(["greet", "goodbye", "thank", "affirm", "deny", "request_human", "cancel", "rate",
  "choose_language", "send_attachment", "bot_challenge", "link_email"]);

async function suggestAnswers(records, mine) {
  const latest = records.filter((r) => r.actor === "customer" && r.text && !/^[/[]/.test(r.text)
    && !NOT_QUESTIONS.has(r.intent)).pop();
  if (!mine || !latest) { $("suggested-box").hidden = true; state.suggestedFor = null; return; }
  if (state.suggestedFor === latest.id) return;
  state.suggestedFor = latest.id;
  try {
    const found = await api(`/api/faq?q=${encodeURIComponent(latest.text)}`);
    if (state.suggestedFor !== latest.id) return;
    $("suggested-for").textContent = latest.text.length > 80 ? latest.text.slice(0, 79) + "…" : latest.text;
    $("suggested").replaceChildren(...found.results.slice(0, 3).map((r) => pressable(
      el("li", `${r.question} (${Number(r.score).toFixed(2)})`), `Insert the answer to: ${r.question}`,
      () => { $("reply").value = r.answer; $("reply").focus(); })));
    $("suggested-box").hidden = !found.results.length;
  } catch (error) { $("suggested-box").hidden = true; }
}

async function searchFaq() {
  const q = $("faq-query").value.trim();
  if (!q) return;
  try {
    const found = await api(`/api/faq?q=${encodeURIComponent(q)}`);
    $("faq-results").replaceChildren(...found.results.map((r) => {
      const item = el("li", `${r.question} (${r.category}, ${Number(r.score).toFixed(2)})`);
      item.title = "Insert this answer";
      return pressable(item, `Insert the answer to: ${r.question}`, () => { $("reply").value = r.answer; $("reply").focus(); });
    }));
    if (!found.results.length) $("faq-results").append(el("li", "nothing found"));
  } catch (error) { showError(error); }
}

// --- availability: the agent's own switch; away by itself after IDLE_MS without a key or click ---

const IDLE_MS = 10 * 60 * 1000;

async function setAvailability(availability, why = "") {
  try {
    await api("/api/me/availability", { method: "POST", body: JSON.stringify({ availability }) });
    $("availability").value = availability;
    $("idle").textContent = why;
  } catch (error) { showError(error); }
}

function watchIdle() {
  let timer = null;
  const active = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if ($("availability").value === "available") setAvailability("away", "away: idle for 10 minutes");
    }, IDLE_MS);
  };
  ["keydown", "mousedown", "mousemove", "touchstart"].forEach((name) => document.addEventListener(name, active));
  active();
}

// --- typing, both ways (widget customers only; never recorded) -------------------------------

async function showDraft() {
  const id = state.openId;
  if (id === null || state.openStatus === "closed") { $("draft").hidden = true; return; }
  try {
    const { draft } = await api(`/api/handoffs/${id}/draft`);
    if (id !== state.openId) return;
    $("draft").textContent = draft ? `Customer is typing: ${draft}` : "";
    $("draft").hidden = !draft;
  } catch (error) { $("draft").hidden = true; }
}

function agentTyping() {
  if (state.openId === null || $("reply").disabled || Date.now() - state.typingSentAt < TYPING_EVERY_MS) return;
  state.typingSentAt = Date.now();
  api(`/api/handoffs/${state.openId}/typing`, { method: "POST" }).catch(() => {});  // a courtesy: never an error
}

// --- start ----------------------------------------------------------------------------------

async function start() {
  const me = await api("/api/me");
  state.me = me.agent;
  session.csrf = me.csrf_token;
  $("me").textContent = `${me.agent.username} (${me.agent.role}${me.agent.skills.length ? ": " + me.agent.skills.join(", ") : ""})`;
  $("active-title").textContent = me.agent.role === "supervisor" ? "All active chats" : "My chats";
  $("dashboard-link").hidden = me.agent.role !== "supervisor";
  const canned = await api("/api/canned-replies");
  canned.replies.forEach((reply) => { const option = el("option", reply.title); option.value = reply.text; $("canned").append(option); });
  $("canned").addEventListener("change", () => { if ($("canned").value) insertCanned($("canned").value); $("canned").value = ""; });
  $("composer").addEventListener("submit", send);
  $("reply").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) send(e); });
  $("claim").addEventListener("click", () => act(`/api/handoffs/${state.openId}/claim`));
  $("take-over").addEventListener("click", () => act(`/api/handoffs/${state.openId}/transfer`,
    { to_agent: state.me.username, reason: "taken over by a supervisor" }));
  $("to-bot").addEventListener("click", () => act(`/api/handoffs/${state.openId}/handback`, { mode: "to_bot" }));
  $("close").addEventListener("click", () => act(`/api/handoffs/${state.openId}/handback`, { mode: "closed" }));
  $("note").addEventListener("click", addNote);
  $("search").addEventListener("submit", searchChats);
  $("transfer").addEventListener("toggle", loadTransferTargets);
  $("transfer-form").addEventListener("submit", transferChat);
  $("faq-search").addEventListener("click", searchFaq);
  $("faq-query").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); searchFaq(); } });
  $("notify").addEventListener("click", async () => {
    state.audio = state.audio || new AudioContext();
    if ("Notification" in window) await Notification.requestPermission();
    $("notify").textContent = "Alerts on";
    beep();
  });
  $("logout").addEventListener("click", async () => {
    await api("/api/logout", { method: "POST" }).catch(() => {});
    window.location.href = "/login";
  });
  $("reply").addEventListener("input", agentTyping);
  $("availability").value = me.agent.availability;
  $("availability").addEventListener("change", () => setAvailability($("availability").value));
  watchIdle();
  setInterval(showDraft, DRAFT_POLL_MS);
  setInterval(tickWaits, 1000);
  listen();
}

start().catch(showError);
