// Brightcart chat widget. Embed with one tag:
//   <script src="https://HOST:5080/widget.js" data-server="https://HOST:5005" async></script>
// data-server is the Rasa server (socket.io channel bot.rasa_server.channels.widget.WidgetInput).
// Served concatenated after the socket.io client (window.io). Everything runs inside a
// shadow root, so the shop's CSS and ours do not mix. Every message is put on the page with
// textContent (web addresses as links): HTML in a message is shown, never run.
//
// Nothing is lost either way: what the customer types goes into an outbox in localStorage and
// is shown as "Sending…" until the server acknowledges it recorded; on every (re)connect the
// log is replaced by the conversation as recorded (bot/rasa_server/channels/widget_history.py),
// so an agent's message sent while this tab was offline, and what another tab said, appear;
// then the outbox is sent again, one message at a time, each with its id (the server runs an id
// once). With the panel closed, a reply shows an unread count and a preview on the bubble.
(function () {
  "use strict";
  var script = document.currentScript;
  var server = (script && script.dataset.server) || window.location.origin.replace(/:\d+$/, ":5005");
  var title = (script && script.dataset.title) || "Brightcart help";
  var KEY = "brightcart-chat:" + server;
  var MAX_MESSAGES = 200;                  // as many as the server sends back (widget_history.py)
  var RETRY_MS = [2000, 5000, 10000, 30000]; // a message the server could not record yet is sent again

  var socket = null;
  var synced = false;      // the log shows the conversation as recorded (after session_request)
  var early = [];          // live messages that arrived while it was being fetched
  var messages = [];       // what the log shows, oldest first: {who, text, at, id?, agent?, buttons?}
  var sending = null;      // the outbox message waiting for the server's acknowledgement
  var shownKey = "";       // what the cached copy of the log (localStorage `shown`) was written for
  var retries = 0, retryTimer = null, unread = 0;
  var language = /^zh/i.test(navigator.language || "") ? "zh" : "en";
  var welcome = null;      // greeting, topics, who is online, the invitation (widget_welcome.py)
  var agentTyping = null, agentTypingTimer = null, draftTimer = null, pageReported = false;
  var DRAFT_DEBOUNCE_MS = 400, AGENT_TYPING_MS = 5000;

  var host = document.createElement("div");
  host.id = "brightcart-chat";
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML = [
    "<style>",
    ":host { all: initial; }",
    "* { box-sizing: border-box; font-family: system-ui, sans-serif; font-size: 15px; }",
    ".bubble { position: fixed; right: 20px; bottom: 20px; width: 60px; height: 60px; border-radius: 50%; border: 0;",
    "  background: #2563eb; color: #fff; cursor: pointer; box-shadow: 0 4px 14px #0004; z-index: 2147483646;",
    "  display: grid; place-items: center; }",
    ".bubble:focus-visible, button:focus-visible, textarea:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }",
    ".panel { position: fixed; right: 20px; bottom: 92px; width: 370px; height: 540px; max-height: calc(100vh - 112px);",
    "  background: #fff; border-radius: 12px; box-shadow: 0 8px 30px #0005; display: flex; flex-direction: column;",
    "  overflow: hidden; z-index: 2147483647; color: #111827; }",
    ".panel[hidden] { display: none; }",
    "header { background: #2563eb; color: #fff; padding: 12px 14px; display: flex; align-items: center; gap: 8px; }",
    "header h2 { margin: 0; font-size: 16px; flex: 1; }",
    "header .status { font-size: 12px; opacity: .9; }",
    "header button { background: none; border: 0; color: #fff; font-size: 22px; cursor: pointer; line-height: 1; }",
    ".log-area { flex: 1; min-height: 0; display: flex; flex-direction: column; }",  // the log's role; the list inside stays a list
    ".log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f9fafb; margin: 0; list-style: none; }",
    ".msg { max-width: 85%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }",
    ".msg.customer { align-self: flex-end; background: #2563eb; color: #fff; }",
    ".msg.bot { align-self: flex-start; background: #e5e7eb; }",
    ".msg.agent { align-self: flex-start; background: #dcfce7; border: 1px solid #86efac; }",
    ".who { display: block; font-size: 12px; font-weight: 600; color: #166534; margin-bottom: 2px; }",
    ".buttons { display: flex; flex-wrap: wrap; gap: 6px; align-self: flex-start; max-width: 95%; }",
    ".buttons button { background: #fff; border: 1px solid #2563eb; color: #1d4ed8; border-radius: 14px; padding: 5px 10px; cursor: pointer; }",
    ".typing { align-self: flex-start; color: #6b7280; font-style: italic; font-size: 13px; }",
    ".error { color: #b91c1c; font-size: 13px; padding: 0 12px; }",
    "form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid #e5e7eb; }",
    "textarea { flex: 1; resize: none; border: 1px solid #d1d5db; border-radius: 8px; padding: 8px; height: 42px; }",
    "form .attach { background: #fff; color: #1d4ed8; border: 1px solid #d1d5db; padding: 0 10px; }",
    "form button { background: #2563eb; color: #fff; border: 0; border-radius: 8px; padding: 0 14px; cursor: pointer; }",
    ".msg time { display: block; font-size: 11px; margin-top: 3px; }",  // full colour: 4.5:1 on every bubble (axe-core)
    ".msg.pending { opacity: .75; }",
    ".msg .state { display: block; font-size: 11px; margin-top: 3px; }",
    ".msg a { color: inherit; text-decoration: underline; }",
    ".badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; border-radius: 11px; background: #dc2626;",
    "  color: #fff; font-size: 12px; font-weight: 700; display: grid; place-items: center; padding: 0 5px; }",
    ".badge[hidden], .preview[hidden] { display: none; }",
    ".preview { position: fixed; right: 20px; bottom: 92px; max-width: 300px; background: #fff; color: #111827; border-radius: 12px;",
    "  box-shadow: 0 4px 14px #0004; padding: 10px 12px; z-index: 2147483646; cursor: pointer; border: 0; text-align: left; }",
    ".welcome { align-self: flex-start; max-width: 85%; padding: 8px 11px; border-radius: 12px; background: #e5e7eb; }",
    ".notice { align-self: center; font-size: 12px; color: #374151; background: #f3f4f6; border-radius: 10px; padding: 3px 10px; }",
    ".availability { align-self: flex-start; font-size: 12px; color: #4b5563; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }",
    "@media (max-width: 480px) { .panel { right: 0; bottom: 0; width: 100vw; height: 100vh; max-height: 100vh; border-radius: 0; }",
    "  .bubble { right: 14px; bottom: 14px; } }",
    "</style>",
    '<button class="bubble" type="button" aria-label="Open chat with Brightcart" aria-expanded="false" aria-controls="panel">' +
      '<svg width="30" height="30" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>' +
      '<span class="badge" hidden></span></button>',
    '<button class="preview" type="button" hidden></button>',
    '<section class="panel" id="panel" role="dialog" aria-label="Chat with Brightcart" hidden>',
    '  <header><h2></h2><span class="status" role="status"></span>',
    '    <button class="close" type="button" aria-label="Close chat">×</button></header>',
    '  <div class="log-area" role="log" aria-live="polite" aria-label="Conversation"><ol class="log"></ol></div>',
    '  <div class="error" role="alert"></div>',
    '  <form><label class="sr-only" for="input">Your message</label>',
    '    <textarea id="input" placeholder="Type your question…" maxlength="4000" rows="1"></textarea>',
    '    <button class="attach" type="button" aria-label="Send a photo or a PDF"><svg viewBox="0 0 24 24" width="18" ' +
    'height="18" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" ' +
    'd="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9"/>' +
    '</svg></button>',  // a drawn paper clip: an emoji needs a font some systems lack
    '    <input class="file" type="file" hidden accept="image/png,image/jpeg,image/webp,application/pdf">',
    '    <button type="submit">Send</button></form>',
    "</section>",
  ].join("\n");

  var $ = function (selector) { return root.querySelector(selector); };
  var bubble = $(".bubble"), panel = $(".panel"), log = $(".log"), input = $("#input");
  var badge = $(".badge"), preview = $(".preview");
  $("h2").textContent = title;

  // --- what this browser keeps (localStorage, shared by its tabs: always read before changing) ---
  function load() {
    var empty = { sessionId: null, open: false, outbox: [], mine: {}, shown: [] };
    try { return Object.assign(empty, JSON.parse(window.localStorage.getItem(KEY)) || {}); }
    catch (e) { return empty; }
  }
  function change(fn) {
    var stored = load();
    fn(stored);
    try { window.localStorage.setItem(KEY, JSON.stringify(stored)); } catch (e) { /* private mode: no memory */ }
    return stored;
  }
  function newId() {
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  // --- the log: the recorded conversation, then what is still in the outbox -------------------
  function render() {
    log.textContent = "";
    renderWelcome();
    messages.forEach(function (m) { renderMessage(m, false); });
    var last = messages[messages.length - 1];
    if (last && last.buttons && last.buttons.length) renderButtons(last.buttons);
    load().outbox.concat(files).forEach(function (m) {
      renderMessage({ who: "customer", text: m.shown, at: m.at, id: m.id }, true);
    });
    if (sending || agentTyping) renderTyping();
    log.scrollTop = log.scrollHeight;  // a reload opens at the latest message
    // Shown at once on the next page; written only when a message came or went (not for "typing…").
    var key = messages.length + ":" + (last ? (last.id || last.at || last.text) : "");
    if (synced && key !== shownKey) {
      shownKey = key;
      change(function (s) { s.shown = messages.slice(-50); });
    }
  }

  function renderMessage(m, pending) {
    if (!m.text) return;  // a message of buttons only: its row follows
    if (m.who === "notice") {  // e.g. "Alice from our team has joined the chat."
      var notice = document.createElement("li");
      notice.className = "notice";
      notice.textContent = m.text;
      log.appendChild(notice);
      return;
    }
    var item = document.createElement("li");
    item.className = "msg " + m.who + (pending ? " pending" : "");
    if (m.who === "agent") {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = m.agent + " (Brightcart team)";
      item.appendChild(who);
    }
    var text = document.createElement("span");
    text.className = "text";
    linkify(text, m.text);
    item.appendChild(text);
    if (pending) {
      var state = document.createElement("span");
      state.className = "state";
      state.textContent = retries ? "Not sent yet: trying again…" : "Sending…";
      item.appendChild(state);
    } else if (m.at) {
      var when = document.createElement("time");
      var date = new Date(m.at * 1000);
      when.dateTime = date.toISOString();
      when.textContent = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      item.appendChild(when);
    }
    log.appendChild(item);
  }

  // Web addresses become links; everything else stays text (textContent: markup is shown, never run).
  function linkify(element, text) {
    var pattern = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)]/g, at = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      element.appendChild(document.createTextNode(text.slice(at, match.index)));
      var link = document.createElement("a");
      link.href = match[0];
      link.textContent = match[0];
      link.target = "_blank";
      link.rel = "noopener noreferrer nofollow";
      element.appendChild(link);
      at = match.index + match[0].length;
    }
    element.appendChild(document.createTextNode(text.slice(at)));
  }

  function renderButtons(buttons) {
    var row = document.createElement("li");
    row.className = "buttons";
    row.setAttribute("aria-label", "Choices");
    buttons.forEach(function (b) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      if (/^★+$/.test(b.title)) button.setAttribute("aria-label", b.title.length + " of 5");  // a rating, read aloud
      button.addEventListener("click", function () { send(b.payload, b.title); });
      row.appendChild(button);
    });
    log.appendChild(row);
  }

  // The greeting heads every conversation; topics and availability until the customer writes.
  function renderWelcome() {
    if (!welcome) return;
    var greeting = document.createElement("li");
    greeting.className = "welcome";
    greeting.textContent = welcome.greeting;
    log.appendChild(greeting);
    if (messages.length || load().outbox.length) return;
    var availability = document.createElement("li");
    availability.className = "availability";
    availability.textContent = welcome.availability;
    log.appendChild(availability);
    if (!welcome.topics.length) return;
    renderButtons(welcome.topics.map(function (t) { return { title: t.title, payload: t.question }; }));
    log.lastChild.classList.add("topics");
    log.lastChild.setAttribute("aria-label", "Popular questions");
  }

  function fetchWelcome() {
    var back = load().shown.length ? "&returning=1" : "";  // a browser that talked with us before
    window.fetch(server + "/webhooks/widget/welcome?language=" + language + back)
      .then(function (reply) { return reply.ok ? reply.json() : null; })
      .then(function (body) { if (!body) return; welcome = body; render(); invite(); })
      .catch(function () { /* no welcome: the chat works without it */ });
  }

  // The shop's invitation: a bubble after some time on matching pages, once per visitor per day.
  function invite() {
    var rule = welcome.invitation, today = new Date().toISOString().slice(0, 10);
    if (!rule || load().invitedOn === today) return;
    var here = window.location.pathname;
    if (!rule.pages.some(function (pattern) { return glob(pattern).test(here); })) return;
    setTimeout(function () {
      if (!panel.hidden || load().invitedOn === today || unread) return;
      change(function (s) { s.invitedOn = today; });
      preview.textContent = rule.text;
      preview.hidden = false;
    }, rule.after_seconds * 1000);
  }
  function glob(pattern) {
    return new RegExp("^" + pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$");
  }

  function renderTyping() {
    var typing = document.createElement("li");
    typing.className = "typing";
    typing.textContent = (sending || !agentTyping ? "Brightcart" : agentTyping) + " is typing…";
    log.appendChild(typing);
  }

  function status(text) { $(".status").textContent = text; }
  function error(text) { $(".error").textContent = text || ""; }

  // --- messages in: the recorded conversation on (re)connect, then live ones ------------------
  function withOwnWording(m) {
    var mine = m.id && load().mine[m.id];
    return mine ? Object.assign({}, m, { text: mine }) : m;  // stored texts are redacted; ours are not
  }

  function showRecorded(recorded) {
    messages = recorded.map(withOwnWording);
    var ids = {};
    messages.forEach(function (m) { if (m.id) ids[m.id] = true; });
    change(function (s) { s.outbox = s.outbox.filter(function (m) { return !ids[m.id]; }); });
    filesDone(function (f) { return ids[f.id]; });
    early.forEach(function (m) { if (!alreadyShown(m)) messages.push(m); });
    early = [];
    synced = true;
    render();
    flush();
    flushFiles();
  }

  // A live message that raced the fetch of the conversation may be in both.
  function alreadyShown(m) {
    return messages.slice(-10).some(function (old) {
      return (m.id && old.id === m.id) || (old.who === m.who && old.text === m.text && Math.abs((old.at || 0) - (m.at || 0)) < 5);
    });
  }

  function arrived(m) {
    if (!synced) { early.push(m); return; }
    if (m.id) {
      change(function (s) { s.outbox = s.outbox.filter(function (o) { return o.id !== m.id; }); });
      filesDone(function (f) { return f.id === m.id; });
    }
    if (m.who === "customer" && alreadyShown(m)) return;
    messages.push(m);
    messages = messages.slice(-MAX_MESSAGES);
    if (m.who !== "customer" && panel.hidden) notify(m);
    render();
  }

  function notify(m) {
    unread += 1;
    badge.textContent = String(unread);
    badge.hidden = false;
    bubble.setAttribute("aria-label", "Open chat with Brightcart (" + unread + " unread)");
    preview.textContent = (m.agent ? m.agent + ": " : "") + (m.text.length > 90 ? m.text.slice(0, 89) + "…" : m.text);
    preview.hidden = false;
  }
  function clearUnread() {
    unread = 0;
    badge.hidden = true;
    preview.hidden = true;
    bubble.setAttribute("aria-label", "Open chat with Brightcart");
  }

  // --- messages out: an outbox, sent one at a time, kept until the server has recorded it ------
  function send(text, shown) {
    text = text.trim();
    if (!text) return;
    error("");
    var m = { id: newId(), text: text, shown: shown || text, at: Date.now() / 1000 };
    change(function (s) {
      s.outbox.push(m);
      s.mine[m.id] = m.shown;
      var ids = Object.keys(s.mine);
      ids.slice(0, Math.max(0, ids.length - MAX_MESSAGES)).forEach(function (id) { delete s.mine[id]; });
    });
    render();
    flush();
  }

  function flush() {
    var next = load().outbox[0];
    if (!next || sending || !synced || !socket || !socket.connected) return;
    sending = next;
    render();
    var stored = load();
    socket.emit("user_uttered", { message: next.text, session_id: stored.sessionId, id: next.id }, function (ack) {
      sending = null;
      if (ack && ack.status === "retry") {
        retries += 1;
        clearTimeout(retryTimer);
        retryTimer = setTimeout(flush, RETRY_MS[Math.min(retries - 1, RETRY_MS.length - 1)]);
        render();
        return;
      }
      retries = 0;
      // recorded (shown by its customer_uttered) or refused (too long, too fast): out of the outbox
      change(function (s) { s.outbox = s.outbox.filter(function (o) { return o.id !== next.id; }); });
      if (ack && ack.status === "refused") {
        error(ack.error);
        if (!input.value) input.value = next.shown;  // theirs to edit and send again
      }
      render();
      flush();
    });
  }

  function connect() {
    if (socket) return;
    status("connecting…");
    socket = window.io(server, { transports: ["websocket"], reconnection: true, reconnectionDelayMax: 10000 });
    socket.on("connect", function () {
      status("");
      synced = false;
      sending = null;  // an acknowledgement lost with the old connection: the conversation says
      socket.emit("session_request", { session_id: load().sessionId }, function (reply) {
        change(function (s) { s.sessionId = reply.session_id; });
        showRecorded(reply.messages);
        reportPage();
      });
    });
    socket.on("disconnect", function () { status("reconnecting…"); });
    socket.on("connect_error", function () { status("reconnecting…"); });
    socket.on("customer_uttered", function (m) {
      arrived(withOwnWording({ who: "customer", text: m.text, at: m.at, id: m.id }));
    });
    socket.on("agent_typing", function (m) {
      agentTyping = m.agent;
      clearTimeout(agentTypingTimer);
      agentTypingTimer = setTimeout(function () { agentTyping = null; render(); }, AGENT_TYPING_MS);
      render();
    });
    socket.on("bot_uttered", function (m) {
      if (m.agent) agentTyping = null;
      arrived({ who: m.notice ? "notice" : m.agent ? "agent" : "bot", text: m.text || "", at: m.at, agent: m.agent,
                buttons: m.buttons });
    });
  }

  // This page, for the agent who may take the chat (bot/domain/visitors.py): once per page, and only
  // in a browser that has a conversation with us. The server keeps the address without its query.
  function reportPage() {
    if (pageReported) return;
    pageReported = true;
    var ua = navigator.userAgent || "";
    var device = /iPad|Tablet/i.test(ua) ? "tablet" : /Mobi|Android|iPhone/i.test(ua) ? "phone" : "desktop";
    socket.emit("page_view", { url: window.location.href, title: document.title || "", referrer: document.referrer || "",
                               device: device }, function () {});
  }

  // A photo or PDF (widget_attachments.py): checked by content on the server, shown in every tab
  // once recorded. Files wait in their own outbox, shown as "Sending…", sent one at a time once
  // connected, and again after a lost connection or a "not recorded" (503), each with its id: the
  // server keeps an id once. The outbox is kept in IndexedDB too (it holds a File; localStorage
  // cannot), so a file chosen offline still goes when the customer comes back after closing the tab.
  var MAX_FILE_BYTES = 5 * 1024 * 1024;
  var FILE_DB = "brightcart-widget-files";
  var files = [];          // {id, file, name, shown, at}
  var uploading = null;    // the file whose answer is awaited
  var fileRetries = 0, fileRetryTimer = null;

  function upload(file) {
    error("");
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) { error("The file is too large: at most 5 MB."); return; }
    var pdf = file.type === "application/pdf" || /\.pdf$/i.test(file.name);
    var waiting = { id: newId(), file: file, name: file.name, at: Date.now() / 1000,
                    shown: "[" + (pdf ? "document" : "photo") + ": " + file.name + "]" };
    files.push(waiting);
    fileStore("readwrite", function (store) { store.put(waiting); });
    render();
    flushFiles();
  }

  function flushFiles() {
    var next = files[0];
    if (!next || uploading || !synced || !socket || !socket.connected) return;
    uploading = next;
    var body = new FormData();
    body.append("session_id", load().sessionId);
    body.append("id", next.id);
    body.append("file", next.file, next.name);
    window.fetch(server + "/webhooks/widget/attachments", { method: "POST", body: body })
      .then(function (reply) { return reply.json().then(function (answer) { return [reply.status, answer]; }); })
      .then(function (result) {
        uploading = null;
        if (result[0] === 503 || result[0] === 429) { retryFiles(); return; }  // not recorded, or too fast
        fileRetries = 0;
        filesDone(function (f) { return f.id === next.id; });
        if (result[0] >= 400) error(result[1].error || "The file could not be sent.");
        render();
        flushFiles();
      })
      .catch(function () { uploading = null; retryFiles(); });  // offline: kept, sent again on reconnect
  }

  function retryFiles() {
    fileRetries += 1;
    clearTimeout(fileRetryTimer);
    fileRetryTimer = setTimeout(flushFiles, RETRY_MS[Math.min(fileRetries - 1, RETRY_MS.length - 1)]);
    render();
  }

  // Out of the outbox (recorded, or refused with a reason shown): here and in IndexedDB.
  function filesDone(matches) {
    files.filter(matches).forEach(function (f) { fileStore("readwrite", function (store) { store.delete(f.id); }); });
    files = files.filter(function (f) { return !matches(f); });
  }

  function fileStore(mode, work) {
    if (!window.indexedDB) return;  // the outbox then lasts as long as the page
    var opening = window.indexedDB.open(FILE_DB, 1);
    opening.onupgradeneeded = function () { opening.result.createObjectStore("files", { keyPath: "id" }); };
    opening.onsuccess = function () {
      try { work(opening.result.transaction("files", mode).objectStore("files")); } catch (e) { /* no storage */ }
    };
  }

  function restoreFiles() {
    fileStore("readonly", function (store) {
      var all = store.getAll();
      all.onsuccess = function () {
        all.result.forEach(function (f) { if (!files.some(function (g) { return g.id === f.id; })) files.push(f); });
        if (all.result.length) { render(); flushFiles(); }
      };
    });
  }

  function open(focus) {
    panel.hidden = false;
    bubble.setAttribute("aria-expanded", "true");
    change(function (s) { s.open = true; });
    clearUnread();
    connect();
    render();
    if (focus) input.focus();
  }
  function close() {
    panel.hidden = true;
    bubble.setAttribute("aria-expanded", "false");
    change(function (s) { s.open = false; });
    bubble.focus();
  }

  bubble.addEventListener("click", function () { if (panel.hidden) open(true); else close(); });
  preview.addEventListener("click", function () { open(true); });
  $(".close").addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
  $(".attach").addEventListener("click", function () { $(".file").click(); });
  $(".file").addEventListener("change", function () { upload($(".file").files[0]); $(".file").value = ""; });
  $("form").addEventListener("submit", function (e) { e.preventDefault(); send(input.value); input.value = ""; });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(input.value); input.value = ""; }
  });
  // What the customer is typing, for the agent's preview (live_typing.py: kept 30 s, never recorded).
  input.addEventListener("input", function () {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(function () {
      if (socket && socket.connected && synced) socket.emit("typing", { draft: input.value });
    }, DRAFT_DEBOUNCE_MS);
  });
  // Another tab queued a message: this one may send it too (the server runs each id once).
  window.addEventListener("storage", function (e) { if (e.key === KEY) flush(); });

  var initial = load();
  messages = initial.shown.map(withOwnWording);  // until the server answers (or while offline)
  (document.body || document.documentElement).appendChild(host);
  render();
  fetchWelcome();
  if (initial.open) open(false);
  if (initial.sessionId) connect();  // agents' messages arrive even while the panel is closed
  if (initial.sessionId) restoreFiles();  // files chosen before the tab was closed
})();
