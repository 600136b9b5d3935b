// Brightcart chat widget. Embed with one tag:
//   <script src="https://HOST:5080/widget.js" data-server="https://HOST:5005" async></script>
// data-server is the Rasa server (socket.io channel bot.rasa_server.channels.widget.WidgetInput).
// Served concatenated after the socket.io client (window.io). Everything runs inside a
// shadow root, so the shop's CSS and ours do not mix. Every message is put on the page with
// textContent: HTML in a message is shown, never run.
(function () {
  "use strict";
  var script = document.currentScript;
  var server = (script && script.dataset.server) || window.location.origin.replace(/:\d+$/, ":5005");
  var title = (script && script.dataset.title) || "Brightcart help";
  var KEY = "brightcart-chat:" + server;
  var MAX_HISTORY = 200;
  var TYPING_TIMEOUT_MS = 20000;

  var stored = load();
  var socket = null;
  var typingTimer = null;

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
    "form button { background: #2563eb; color: #fff; border: 0; border-radius: 8px; padding: 0 14px; cursor: pointer; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }",
    "@media (max-width: 480px) { .panel { right: 0; bottom: 0; width: 100vw; height: 100vh; max-height: 100vh; border-radius: 0; }",
    "  .bubble { right: 14px; bottom: 14px; } }",
    "</style>",
    '<button class="bubble" type="button" aria-label="Open chat with Brightcart" aria-expanded="false" aria-controls="panel">' +
      '<svg width="30" height="30" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg></button>',
    '<section class="panel" id="panel" role="dialog" aria-label="Chat with Brightcart" hidden>',
    '  <header><h2></h2><span class="status" role="status"></span>',
    '    <button class="close" type="button" aria-label="Close chat">×</button></header>',
    '  <ol class="log" role="log" aria-live="polite" aria-label="Conversation"></ol>',
    '  <div class="error" role="alert"></div>',
    '  <form><label class="sr-only" for="input">Your message</label>',
    '    <textarea id="input" placeholder="Type your question…" maxlength="4000" rows="1"></textarea>',
    '    <button type="submit">Send</button></form>',
    "</section>",
  ].join("\n");

  var $ = function (selector) { return root.querySelector(selector); };
  var bubble = $(".bubble"), panel = $(".panel"), log = $(".log"), input = $("#input");
  $("h2").textContent = title;

  function load() {
    try { return JSON.parse(window.localStorage.getItem(KEY)) || { sessionId: null, history: [], open: false }; }
    catch (e) { return { sessionId: null, history: [], open: false }; }
  }
  function save() {
    stored.history = stored.history.slice(-MAX_HISTORY);
    try { window.localStorage.setItem(KEY, JSON.stringify(stored)); } catch (e) { /* private mode: no memory */ }
  }

  function render(entry) {
    if (entry.kind === "buttons") return renderButtons(entry);
    var item = document.createElement("li");
    item.className = "msg " + entry.who;
    if (entry.who === "agent") {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = entry.agent + " (Brightcart team)";
      item.appendChild(who);
    }
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = entry.text;
    item.appendChild(text);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function renderButtons(entry) {
    var row = document.createElement("li");
    row.className = "buttons";
    row.setAttribute("aria-label", "Choices");
    entry.buttons.forEach(function (b) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      button.addEventListener("click", function () { send(b.payload, b.title); });
      row.appendChild(button);
    });
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }

  function remember(entry) { stored.history.push(entry); save(); render(entry); }

  function setTyping(on) {
    var old = root.querySelector(".typing");
    if (old) old.remove();
    clearTimeout(typingTimer);
    if (!on) return;
    var typing = document.createElement("li");
    typing.className = "typing";
    typing.textContent = "Brightcart is typing…";
    log.appendChild(typing);
    log.scrollTop = log.scrollHeight;
    typingTimer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS);
  }

  function status(text) { $(".status").textContent = text; }
  function error(text) { $(".error").textContent = text || ""; }

  function connect() {
    if (socket) return;
    status("connecting…");
    socket = window.io(server, { transports: ["websocket"], reconnection: true, reconnectionDelayMax: 10000 });
    socket.on("connect", function () {
      status("");
      socket.emit("session_request", { session_id: stored.sessionId });
    });
    socket.on("disconnect", function () { status("reconnecting…"); });
    socket.on("connect_error", function () { status("reconnecting…"); });
    socket.on("session_confirm", function (id) { stored.sessionId = id; save(); });
    socket.on("bot_uttered", function (message) {
      setTyping(false);
      if (message.text) remember({ who: message.agent ? "agent" : "bot", text: message.text, agent: message.agent });
      if (message.buttons && message.buttons.length) remember({ kind: "buttons", buttons: message.buttons });
    });
    socket.on("error_message", function (message) { setTyping(false); error(message.error); });
  }

  function send(text, shown) {
    text = text.trim();
    if (!text) return;
    error("");
    remember({ who: "customer", text: shown || text });
    setTyping(true);
    socket.emit("user_uttered", { message: text, session_id: stored.sessionId });
  }

  function open(focus) {
    panel.hidden = false;
    bubble.setAttribute("aria-expanded", "true");
    stored.open = true; save();
    connect();
    if (focus) input.focus();
  }
  function close() {
    panel.hidden = true;
    bubble.setAttribute("aria-expanded", "false");
    stored.open = false; save();
    bubble.focus();
  }

  bubble.addEventListener("click", function () { if (panel.hidden) open(true); else close(); });
  $(".close").addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
  $("form").addEventListener("submit", function (e) { e.preventDefault(); send(input.value); input.value = ""; });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(input.value); input.value = ""; }
  });

  stored.history.forEach(render);
  (document.body || document.documentElement).appendChild(host);
  if (stored.open) open(false);
  if (stored.sessionId) connect();  // agents' messages arrive even while the panel is closed
})();
