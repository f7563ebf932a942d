// Tandem patient chat: one WebSocket to /patient speaking the envelope protocol of
// docs/PROTOCOL.md. The device token lives in localStorage so a reload resumes the conversation.
// AI replies arrive as screened `segment`s (a sentence at a time) in one "streaming" bubble,
// which the final `message` (same reply_id) replaces; a `reviewing` or fallback for that
// reply_id removes it.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const store = window.localStorage;
  let ws = null;
  let backoff = 500;
  let lastSeq = 0;  // per page: a fresh page asks for the whole conversation, a reconnect for what it missed
  const pending = new Map();   // client_msg_id -> {text, li}
  const shown = new Set();     // message ids already on screen (resume sends history again)

  function uuid() {
    return ([1e7] + -1e3 + -4e3 + -8e3 + -1e11).replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
  }
  function frame(type, payload) {
    return JSON.stringify({ type, id: uuid(), time: new Date().toISOString(), payload });
  }
  function status(text) { $("status").textContent = text; }
  function addMessage(sender, text, meta) {
    const li = document.createElement("li");
    li.className = sender;
    li.textContent = text;
    if (meta) { const m = document.createElement("span"); m.className = "meta"; m.textContent = meta; li.appendChild(m); }
    $("messages").appendChild(li);
    li.scrollIntoView({ block: "end" });
    return li;
  }
  function showCrisis(p) {
    $("crisis").hidden = false;
    $("crisis-text").textContent = p.text || "";
    const ul = $("crisis-resources");
    ul.textContent = "";
    for (const r of p.resources || []) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.textContent = r.name + ": " + r.contact;
      a.href = (r.kind === "text" ? "sms:" : r.kind === "web" ? "" : "tel:") + r.contact;
      li.appendChild(a);
      ul.appendChild(li);
    }
  }
  function seen(seq) { if (seq && seq > lastSeq) lastSeq = seq; }
  function partial(replyId) {
    return replyId ? $("messages").querySelector('li[data-reply="' + CSS.escape(replyId) + '"]') : null;
  }

  function onFrame(env) {
    const p = env.payload || {};
    seen(env.seq);
    switch (env.type) {
      case "session":
        if (p.device_token) store.setItem("tandem.device_token", p.device_token);
        $("redeem").hidden = true; $("chat").hidden = false; status("Connected");
        if (p.crisis) showCrisis(p.crisis);
        for (const [cid, m] of pending) ws.send(frame("send", { client_msg_id: cid, text: m.text }));
        break;
      case "ack": {
        const m = pending.get(p.client_msg_id);
        if (m) { m.li.querySelector(".meta").textContent = "Delivered"; pending.delete(p.client_msg_id); }
        if (p.message_id) shown.add(p.message_id);
        break;
      }
      case "segment": {
        let li = partial(p.reply_id);
        if (!li) {
          li = addMessage("ai", "");
          li.dataset.reply = p.reply_id;
          li.classList.add("streaming");
          li.setAttribute("aria-busy", "true");
        }
        li.textContent += p.text;
        $("typing").hidden = true;
        li.scrollIntoView({ block: "end" });
        break;
      }
      case "message": {
        const li = partial(p.reply_id);
        if (p.id && shown.has(p.id)) { if (li) li.remove(); break; }
        if (p.id) shown.add(p.id);
        $("typing").hidden = true;
        if (p.sender === "patient" && pending.has(p.client_msg_id)) break;
        if (p.sender === "ai" || p.sender === "clinician") $("reviewing").hidden = true;
        if (li && p.id === p.reply_id) {  // the whole reply, screened: it replaces its segments
          li.textContent = p.text;
          li.classList.remove("streaming");
          li.removeAttribute("aria-busy");
          delete li.dataset.reply;
          break;
        }
        if (li) li.remove();  // a fallback replaces a failed reply's segments
        addMessage(p.sender, p.text);
        break;
      }
      case "typing": $("typing").hidden = false; break;
      case "reviewing": {
        const li = partial(p.reply_id);
        if (li) li.remove();
        $("typing").hidden = true; $("reviewing").hidden = false;
        break;
      }
      case "crisis": showCrisis(p); break;
      case "questionnaire": case "questionnaire_saved": case "questionnaire_result":
        if (window.TandemQuestionnaire) window.TandemQuestionnaire.onFrame(env.type, p);
        break;
      case "error":
        if (window.TandemQuestionnaire && window.TandemQuestionnaire.onError(p)) break;
        if (p.code === "invalid_invite") { store.removeItem("tandem.device_token"); showRedeem(p.message); }
        else status("Problem: " + p.message);
        break;
    }
  }
  function showRedeem(msg) { $("redeem").hidden = false; $("chat").hidden = true; $("redeem-error").textContent = msg || ""; }

  function connect() {
    ws = new WebSocket("wss://" + location.host + "/patient");
    status("Connecting…");
    ws.onopen = () => {
      backoff = 500;
      const token = store.getItem("tandem.device_token");
      if (token) ws.send(frame("hello", { device_token: token, last_seq: lastSeq }));
      else { status("Connected"); showRedeem(""); }
    };
    ws.onmessage = (e) => { try { onFrame(JSON.parse(e.data)); } catch (_) { /* ignore a bad frame */ } };
    ws.onclose = () => { status("Reconnecting…"); setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 15000); };
  }
  $("redeem-form").addEventListener("submit", (e) => {
    e.preventDefault();
    ws.send(frame("redeem", { invite_code: $("invite").value.trim() }));
  });
  $("send-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    const cid = uuid();
    const li = addMessage("patient", text, "Sending…");
    pending.set(cid, { text, li });
    $("text").value = "";
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(frame("send", { client_msg_id: cid, text }));
  });
  if (window.TandemQuestionnaire) {
    window.TandemQuestionnaire.init((type, payload) => {
      const text = frame(type, payload);
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
      return JSON.parse(text).id;
    });
  }
  connect();
})();
