// Questionnaires in the chat page (issue 8, docs/PROTOCOL.md "Questionnaires"): each
// `questionnaire` frame becomes a form of radio buttons, never free text. Follow-up questions
// (the C-SSRS screener's 3 to 5) appear only when their show_if holds. "Save and finish later"
// sends the answers with final=false (the bridge keeps them; they come back in the next
// `questionnaire` frame after a reload or on another device); "Submit" sends final=true.
// Kept apart from app.js, which only forwards frames here, so the chat code stays small.
"use strict";
window.TandemQuestionnaire = (function () {
  const forms = new Map();    // assessment_id -> {def, form, status}
  const sentBy = new Map();   // envelope id -> assessment_id, to match error replies
  let send = null;            // (type, payload) -> envelope id

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function section() { return document.getElementById("questionnaires"); }

  // The answers as the form holds them: one per item, null for unanswered or hidden.
  function answers(entry) {
    return entry.def.items.map((item, i) => {
      const checked = entry.form.querySelector('input[data-item="' + i + '"]:checked');
      return checked && !checked.disabled ? Number(checked.value) : null;
    });
  }
  function holds(cond, values, def) {
    const idx = def.items.findIndex((it) => it.id === cond.item);
    if (idx < 0) return false;
    const v = values[idx];
    if (v === null || v === undefined) return false;
    if (cond.equals !== undefined && v !== cond.equals) return false;
    if (cond.min !== undefined && v < cond.min) return false;
    if (cond.max !== undefined && v > cond.max) return false;
    return true;
  }
  // Skip logic: a hidden question is cleared and disabled, so it is never answered by accident.
  function applySkipLogic(entry) {
    const values = answers(entry);
    entry.def.items.forEach((item, i) => {
      if (!item.show_if) return;
      const visible = holds(item.show_if, values, entry.def);
      const fs = entry.form.querySelector('fieldset[data-item="' + i + '"]');
      fs.hidden = !visible;
      for (const input of fs.querySelectorAll("input")) {
        input.disabled = !visible;
        if (!visible) input.checked = false;
      }
      if (!visible) values[i] = null;
    });
  }
  function trimmed(values) {
    const out = values.slice();
    while (out.length && out[out.length - 1] === null) out.pop();
    return out;
  }
  function submit(entry, final) {
    if (!send) return;
    entry.status.textContent = final ? "Sending…" : "Saving…";
    entry.form.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
    const id = send("questionnaire_answers",
                    { assessment_id: entry.id, items: final ? answers(entry) : trimmed(answers(entry)), final });
    sentBy.set(id, entry.id);
  }

  function show(p) {
    const def = p.instrument || {};
    const old = forms.get(p.assessment_id);
    if (old) old.form.remove();
    const form = el("form", { class: "questionnaire", "aria-labelledby": "q-title-" + p.assessment_id });
    form.appendChild(el("h2", { id: "q-title-" + p.assessment_id }, def.title || "Questionnaire"));
    if (def.instructions) form.appendChild(el("p", { class: "q-instructions" }, def.instructions));
    (def.items || []).forEach((item, i) => {
      const fs = el("fieldset", { "data-item": String(i) });
      fs.appendChild(el("legend", {}, (i + 1) + ". " + item.text));
      for (const opt of item.options || []) {
        const inputId = "q-" + p.assessment_id + "-" + i + "-" + opt.value;
        const input = el("input", { type: "radio", name: "q-" + p.assessment_id + "-" + i, id: inputId,
                                    value: String(opt.value), "data-item": String(i) });
        if (p.answers && p.answers[i] === opt.value) input.checked = true;
        const label = el("label", { for: inputId });
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + opt.label));
        fs.appendChild(label);
      }
      form.appendChild(fs);
    });
    const status = el("p", { class: "q-status", role: "status", "aria-live": "polite" });
    const later = el("button", { type: "button", class: "secondary" }, "Save and finish later");
    const done = el("button", { type: "submit" }, "Submit");
    const buttons = el("div", { class: "q-buttons" });
    buttons.appendChild(later);
    buttons.appendChild(done);
    form.appendChild(buttons);
    form.appendChild(status);
    const entry = { id: p.assessment_id, def, form, status };
    forms.set(p.assessment_id, entry);
    form.addEventListener("change", () => applySkipLogic(entry));
    later.addEventListener("click", () => submit(entry, false));
    form.addEventListener("submit", (e) => { e.preventDefault(); submit(entry, true); });
    applySkipLogic(entry);
    section().appendChild(form);
    section().hidden = false;
  }
  function saved(p) {
    const entry = forms.get(p.assessment_id);
    if (entry) entry.status.textContent = "Saved. You can finish it later.";
  }
  function result(p) {
    const entry = forms.get(p.assessment_id);
    if (!entry) return;
    const box = el("div", { class: "questionnaire q-result", role: "status" });
    const band = p.band_title || (p.band ? p.band.replace(/_/g, " ") : "");
    box.appendChild(el("p", {}, "Thank you. " + (p.title || "Questionnaire") + " score: " + p.score +
                                 (band ? " (" + band + ")" : "") + ". Your care team can see it."));
    if (Array.isArray(p.trend) && p.trend.length > 1) {
      const ol = el("ol", { class: "q-trend", "aria-label": "Your scores over time" });
      for (const t of p.trend) ol.appendChild(el("li", {}, t.completed_at.slice(0, 10) + ": " + t.score));
      box.appendChild(ol);
    }
    entry.form.replaceWith(box);
    forms.delete(p.assessment_id);
  }
  // Returns true when the error answers a questionnaire frame (it is then shown on that form).
  function error(p) {
    const aid = p.ref && sentBy.get(p.ref);
    if (!aid) return false;
    sentBy.delete(p.ref);
    const entry = forms.get(aid);
    if (!entry) return true;
    const m = /^\/payload\/items\/(\d+)/.exec(p.field || "");
    if (m) {
      const fs = entry.form.querySelector('fieldset[data-item="' + m[1] + '"]');
      if (fs) { fs.classList.add("invalid"); const first = fs.querySelector("input:not([disabled])"); if (first) first.focus(); }
    }
    entry.status.textContent = "Please check your answers: " + p.message;
    return true;
  }
  return {
    init(sender) { send = sender; },
    onFrame(type, p) {
      if (type === "questionnaire") show(p);
      else if (type === "questionnaire_saved") saved(p);
      else if (type === "questionnaire_result") result(p);
    },
    onError: error,
  };
})();
