// Shared by the console and the dashboard pages: the JSON API client (session cookie, CSRF header
// on every change, 401 back to the login page) and the one way text is put on the page.
"use strict";

const session = { csrf: "" };  // set from /api/me once the page starts

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (options.method && options.method !== "GET") headers["X-CSRF-Token"] = session.csrf;
  const reply = await fetch(path, { credentials: "same-origin", ...options, headers });
  if (reply.status === 401) { window.location.href = "/login"; throw new Error("logged out"); }
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(typeof body.detail === "string" ? body.detail : `request failed (${reply.status})`);
  return body;
}
