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
    if (Array.isArray(p.trend) && p.trend.length > 0) box.appendChild(trendChart(p));
    entry.form.replaceWith(box);
    forms.delete(p.assessment_id);
  }
  // The patient's own trend (sent only when the clinic shares trends): a small inline SVG per
  // instrument, drawn here without a library. Bands are shaded from the frame's `scale` (the
  // instrument's definition, so a clinic's own measure draws like a built-in); each point has a
  // <title> (date, score, band) for pointer users, and a visually hidden table says the same
  // to screen readers, for whom the SVG itself is one labelled image.
  const SVG = "http://www.w3.org/2000/svg";
  const BAND_FILLS = ["#e3f1e6", "#f3f6dc", "#fdf3d7", "#fde6d2", "#f9d9d7"];  // better -> worse
  function svgEl(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function bandOf(scale, score) {
    return ((scale && scale.bands) || []).find((b) => score >= b.min && score <= b.max);
  }
  function day(t) { return String(t).slice(0, 10); }
  let chartCount = 0;
  function trendChart(p) {
    const points = p.trend.map((t) => ({ at: Date.parse(t.completed_at), date: day(t.completed_at), score: t.score }))
      .filter((t) => !Number.isNaN(t.at)).sort((a, b) => a.at - b.at);
    const scores = points.map((t) => t.score);
    const scale = p.scale || { min: Math.min(0, ...scores), max: Math.max(1, ...scores), lower_is_better: true, bands: [] };
    const lo = Math.min(scale.min, ...scores), hi = Math.max(scale.max, ...scores, lo + 1);
    const name = p.title || p.instrument || "Questionnaire";
    const id = "trend-" + (++chartCount);
    const W = 320, H = 150, left = 28, right = 90, top = 8, bottom = 22;
    const x0 = left, x1 = W - right, y0 = top, y1 = H - bottom;
    const first = points[0].at, last = points[points.length - 1].at;
    const x = (t) => (last > first ? x0 + (x1 - x0) * (t - first) / (last - first) : (x0 + x1) / 2);
    const y = (v) => y1 - (y1 - y0) * (v - lo) / (hi - lo);

    const fig = el("figure", { class: "q-trend" });
    const caption = el("figcaption", { id: id + "-caption" }, "Your " + name + " scores over time");
    fig.appendChild(caption);
    const latest = points[points.length - 1];
    const latestBand = bandOf(scale, latest.score);
    const summary = points.length + (points.length === 1 ? " score" : " scores") + " from " + points[0].date +
      " to " + latest.date + "; latest " + latest.score + (latestBand ? " (" + latestBand.title + ")" : "") + ". " +
      (scale.lower_is_better ? "Lower is better." : "Higher is better.");
    const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": id + "-title " + id + "-desc",
                               class: "q-chart", "data-instrument": p.instrument || "" });
    svg.appendChild(svgEl("title", { id: id + "-title" }, "Your " + name + " scores over time"));
    svg.appendChild(svgEl("desc", { id: id + "-desc" }, summary));
    const bands = (scale.bands || []).slice().sort((a, b) => a.min - b.min);
    bands.forEach((b, i) => {
      // Shading runs from the best band to the worst, whichever end of the scale that is.
      const rank = bands.length < 2 ? 0 : (scale.lower_is_better ? i : bands.length - 1 - i) / (bands.length - 1);
      const fill = BAND_FILLS[Math.round(rank * (BAND_FILLS.length - 1))];
      const top_ = y(Math.min(hi, b.max + 0.5)), bottom_ = y(Math.max(lo, b.min - 0.5));
      svg.appendChild(svgEl("rect", { x: x0, y: top_, width: x1 - x0, height: Math.max(0, bottom_ - top_), fill,
                                      class: "q-band", "data-band": b.label }));
      svg.appendChild(svgEl("text", { x: x1 + 4, y: (top_ + bottom_) / 2 + 3, class: "q-band-label" }, b.title));
    });
    svg.appendChild(svgEl("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, class: "q-frame" }));
    for (const v of [lo, hi]) svg.appendChild(svgEl("text", { x: x0 - 4, y: y(v) + 3, class: "q-axis", "text-anchor": "end" }, v));
    svg.appendChild(svgEl("text", { x: x0, y: H - 6, class: "q-axis" }, points[0].date));
    if (points.length > 1)
      svg.appendChild(svgEl("text", { x: x1, y: H - 6, class: "q-axis", "text-anchor": "end" }, latest.date));
    if (points.length > 1)
      svg.appendChild(svgEl("polyline", { points: points.map((t) => x(t.at) + "," + y(t.score)).join(" "), class: "q-line" }));
    for (const t of points) {
      const dot = svgEl("circle", { cx: x(t.at), cy: y(t.score), r: 4, class: "q-point", "data-score": t.score });
      const b = bandOf(scale, t.score);
      dot.appendChild(svgEl("title", {}, t.date + ": " + name + " " + t.score + (b ? " (" + b.title + ")" : "")));
      svg.appendChild(dot);
    }
    fig.appendChild(svg);

    // Wrapped: a table box ignores the 1px width that hides it, its wrapper does not.
    const hidden = el("div", { class: "visually-hidden" });
    const table = el("table");
    table.appendChild(el("caption", {}, "Your " + name + " scores. " + summary));
    const head = el("tr");
    for (const h of ["Date", "Score", "Band"]) head.appendChild(el("th", { scope: "col" }, h));
    table.appendChild(head);
    for (const t of points) {
      const row = el("tr");
      const b = bandOf(scale, t.score);
      row.appendChild(el("td", {}, t.date));
      row.appendChild(el("td", {}, String(t.score)));
      row.appendChild(el("td", {}, b ? b.title : ""));
      table.appendChild(row);
    }
    hidden.appendChild(table);
    fig.appendChild(hidden);
    return fig;
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
