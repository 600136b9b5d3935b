// The agent console page. Everything the customer typed is put on the page with
// textContent (never innerHTML), so markup in a message shows as text and never runs.
"use strict";

const REASONS = {
  customer_asked: "asked for a person",
  faq_unknown: "bot didn't know the answer",
  not_understood: "bot failed twice",
  urgent_complaint: "urgent complaint",
};
// The customer's language, as the bot detected it (or the customer chose it).
const LANGUAGES = { en: "English", zh: "Chinese 中文" };
const languageOf = (handoff) => handoff.language ? LANGUAGES[handoff.language] || handoff.language : "";
const state = { me: null, openId: null, openRecordId: null, seen: new Set(), firstSnapshot: true,
  audio: null, snapshot: { queue: [], active: [] }, typingSentAt: 0 };
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
  item.addEventListener("click", () => openHandoff(handoff.id));
  return item;
}

function renderLists(snapshot) {
  state.snapshot = snapshot;
  $("queue").replaceChildren(...snapshot.queue.map(handoffItem));
  $("active").replaceChildren(...snapshot.active.map(handoffItem));
  $("queue-count").textContent = String(snapshot.queue.length);
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
    if (state.openId !== null && (!open || (open.latest_record_id && open.latest_record_id !== state.openRecordId)
        || (open && open.status !== state.openStatus))) {
      openHandoff(state.openId, false);
    }
  });
}

// --- one conversation ---------------------------------------------------------------------

async function openHandoff(id, focus = true) {
  try {
    const pop = await api(`/api/handoffs/${id}`);
    state.openId = id;
    state.openStatus = pop.handoff.status;
    renderChat(pop);
    renderLists(state.snapshot);
    if (focus) $("reply").focus();
  } catch (error) { showError(error); }
}

function renderChat(pop) {
  const h = pop.handoff;
  $("empty").hidden = true;
  $("chat").hidden = false;
  $("chat-title").textContent = `Customer ${h.customer_id}`;
  $("chat-meta").textContent = `${REASONS[h.reason] || h.reason} · ${h.status}${h.agent ? " (" + h.agent + ")" : ""}`
    + ` · ${h.channel}${languageOf(h) ? " · speaks " + languageOf(h) : ""} · conversation ${h.conversation_id}`
    + ` · since ${when(h.created_at)}`;
  $("chat-message").textContent = (h.message ? `Message left: ${h.message}` : "")
    + (h.contact_email ? ` · your answer is also emailed to ${h.contact_email}` : "");
  $("chat-identity").textContent = pop.verified_emails.length
    ? `Verified: ${pop.verified_emails.join(", ")}${pop.linked_customers.length ? " · also " + pop.linked_customers.join(", ") : ""}`
    : "Email not verified";
  const mine = h.status === "active" && (h.agent_id === state.me.id || state.me.role === "supervisor");
  $("claim").disabled = !(h.status === "waiting" || h.status === "ticket");
  $("to-bot").disabled = !mine;
  $("close").disabled = !mine;
  $("send").disabled = !mine;
  $("reply").disabled = !mine;
  const transcript = pop.transcript.map((r) => {
    const item = el("li", null, r.actor);
    item.append(el("span", `${r.actor}${r.intent ? " · " + r.intent : ""} · ${when(r.created_at)}`, "meta"));
    item.append(el("span", r.text || "", "text"));
    return item;
  });
  $("transcript").replaceChildren(...transcript);
  $("transcript").scrollTop = $("transcript").scrollHeight;
  state.openRecordId = pop.transcript.length ? pop.transcript[pop.transcript.length - 1].id : null;
  $("complaints").replaceChildren(...pop.complaints.map((c) =>
    el("li", `${c.reference} · ${c.status} · ${c.priority} · ${c.category || "other"}: ${c.description || ""}`)));
  $("earlier").replaceChildren(...pop.earlier_conversations.map((c) =>
    el("li", `${when(c.started_at)} · ${c.channel} · ${c.turns} turns: “${c.opening || ""}”`)));
  $("earlier-handoffs").replaceChildren(...pop.earlier_handoffs.map((e) =>
    el("li", `${when(e.created_at)} · ${REASONS[e.reason] || e.reason} · ${e.status}${e.rating ? " · rated " + e.rating + "/5" : ""}`)));
  if (!pop.complaints.length) $("complaints").append(el("li", "none"));
  if (!pop.earlier_conversations.length) $("earlier").append(el("li", "none"));
  if (!pop.earlier_handoffs.length) $("earlier-handoffs").append(el("li", "none"));
}

async function act(path, body) {
  showError(null);
  try {
    await api(path, { method: "POST", body: JSON.stringify(body || {}) });
    await openHandoff(state.openId);
  } catch (error) { showError(error); }
}

async function send(event) {
  event.preventDefault();
  const text = $("reply").value.trim();
  if (!text || state.openId === null) return;
  $("send").disabled = true;
  try {
    showError(null);
    const result = await api(`/api/handoffs/${state.openId}/messages`, { method: "POST", body: JSON.stringify({ text }) });
    if (result.detail !== "sent") showError(new Error(`Your message was ${result.detail}.`));
    $("reply").value = "";
    await openHandoff(state.openId);
  } catch (error) { showError(error); } finally { $("send").disabled = false; }
}

async function searchFaq() {
  const q = $("faq-query").value.trim();
  if (!q) return;
  try {
    const found = await api(`/api/faq?q=${encodeURIComponent(q)}`);
    $("faq-results").replaceChildren(...found.results.map((r) => {
      const item = el("li", `${r.question} (${r.category}, ${Number(r.score).toFixed(2)})`);
      item.title = "Insert this answer";
      item.addEventListener("click", () => { $("reply").value = r.answer; $("reply").focus(); });
      return item;
    }));
    if (!found.results.length) $("faq-results").append(el("li", "nothing found"));
  } catch (error) { showError(error); }
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
  $("canned").addEventListener("change", () => { if ($("canned").value) $("reply").value = $("canned").value; $("canned").value = ""; $("reply").focus(); });
  $("composer").addEventListener("submit", send);
  $("reply").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) send(e); });
  $("claim").addEventListener("click", () => act(`/api/handoffs/${state.openId}/claim`));
  $("to-bot").addEventListener("click", () => act(`/api/handoffs/${state.openId}/handback`, { mode: "to_bot" }));
  $("close").addEventListener("click", () => act(`/api/handoffs/${state.openId}/handback`, { mode: "closed" }));
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
  setInterval(showDraft, DRAFT_POLL_MS);
  listen();
}

start().catch(showError);
