// The Watermark page: the form's values go to the app as one JSON document; the preview is
// drawn by the app (the code that stamps) and fetched again ~120 ms after the last change, an
// older request cancelled when a newer one starts; save and stamp post with the CSRF token.
"use strict";

(function () {
  const root = document.getElementById("designer");
  if (!root || !window.Keepmark) return;
  const K = window.Keepmark;
  const doc = JSON.parse(root.dataset.doc);
  const say = JSON.parse(root.dataset.messages);
  const form = document.getElementById("wm-form");
  const img = document.getElementById("wm-preview");
  const caption = document.getElementById("wm-sample-name");
  const status = document.getElementById("wm-status");
  const logoValue = document.getElementById("wm-logo-value");
  const logoName = document.getElementById("wm-logo-name");
  const logoRemove = document.getElementById("wm-logo-remove");
  const logoFile = document.getElementById("wm-logo-file");
  const credits = document.getElementById("wm-credits");
  const opening = document.getElementById("wm-opening");
  const closing = document.getElementById("wm-closing");
  const DEBOUNCE = 120; // ms

  function byId(id) { return document.getElementById(id); }
  function number(el, scale) {
    const v = parseFloat(el.value);
    if (Number.isNaN(v)) return el.value; // the app names the field and says what it wants
    return scale ? Math.round((v / scale) * 1e6) / 1e6 : v;
  }
  function formDoc() {
    const position = form.querySelector("input[name=position]:checked");
    return {
      text: byId("wm-text").value,
      font: byId("wm-font").value,
      position: position ? position.value : "",
      opacity: number(byId("wm-opacity-n"), 100),
      size: number(byId("wm-size-n"), 100),
      margin: number(byId("wm-margin-n"), 100),
      logo: logoValue.value,
      credits: credits.checked,
      credits_opening: number(opening),
      credits_closing: number(closing),
    };
  }

  // -- errors next to their fields -------------------------------------------------------------
  function clearErrors() {
    form.querySelectorAll(".field-error").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }
  function showProblems(answer) {
    clearErrors();
    const problems = (answer && answer.problems) || [];
    if (!problems.length) {
      byId("wm-error").textContent = say.failed + " " + ((answer && answer.error) || "?");
      return;
    }
    problems.forEach(function (p) {
      const field = String(p.key || "").replace(/^watermark\./, "");
      const line = p.key + ": " + p.message + (p.fix ? "; " + p.fix : "");
      const spot = form.querySelector('.field-error[data-field="' + CSS.escape(field) + '"]') || byId("wm-error");
      spot.textContent = spot.textContent ? spot.textContent + " " + line : line;
      const input = form.querySelector('[name="' + CSS.escape(field) + '"]');
      if (input) input.setAttribute("aria-invalid", "true");
    });
  }

  // -- the preview ------------------------------------------------------------------------------
  let timer = null;
  let controller = null;
  let seq = 0;
  let shown = null; // the object URL on screen
  function sample() {
    const s = document.querySelector("input[name=sample]:checked");
    return s ? s.value : null;
  }
  function draw() {
    const id = sample();
    if (!img || !id) return;
    if (controller) controller.abort();
    controller = new AbortController();
    const mine = ++seq;
    const sent = formDoc();
    img.dataset.state = "loading";
    fetch("/api/watermark/preview" + K.q, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": K.csrf },
      body: JSON.stringify({ sample: id, form: sent }),
      credentials: "same-origin",
      signal: controller.signal,
    }).then(function (r) {
      if (!r.ok) return r.json().then(function (answer) {
        if (mine !== seq) return;
        img.dataset.state = "error";
        showProblems(answer);
      });
      return r.blob().then(function (blob) {
        if (mine !== seq) return;
        const url = URL.createObjectURL(blob);
        img.onload = function () {
          if (shown) URL.revokeObjectURL(shown);
          shown = url;
          img.dataset.opacity = String(sent.opacity);
          img.dataset.sample = id;
          img.dataset.state = "ready";
        };
        img.src = url;
        clearErrors();
        const s = doc.samples.find(function (x) { return x.id === id; });
        if (caption && s) caption.textContent = s.name;
      });
    }).catch(function (e) {
      if (e.name === "AbortError") return;
      img.dataset.state = "error";
      byId("wm-error").textContent = say.failed + " " + e.message;
    });
  }
  function changed() {
    status.textContent = say.unsaved;
    clearTimeout(timer);
    timer = setTimeout(draw, DEBOUNCE);
  }

  // a slider and its number box show the same value
  form.querySelectorAll("input[data-pair]").forEach(function (el) {
    el.addEventListener("input", function () {
      const other = byId(el.dataset.pair);
      if (other && el.value !== "") other.value = el.value;
    });
  });
  form.addEventListener("input", function (e) {
    if (e.target === logoFile) return;
    changed();
  });
  form.addEventListener("change", function (e) {
    if (e.target === logoFile) return;
    if (e.target === credits) {
      if (credits.checked && !parseFloat(opening.value) && !parseFloat(closing.value)) {
        opening.value = closing.value = String(doc.credits_default);
      }
      opening.disabled = closing.disabled = !credits.checked;
    }
    changed();
  });
  opening.disabled = closing.disabled = !credits.checked;
  document.querySelectorAll("input[name=sample]").forEach(function (r) {
    r.addEventListener("change", function () { clearTimeout(timer); draw(); });
  });
  form.querySelectorAll("button[data-insert]").forEach(function (b) {
    b.addEventListener("click", function () {
      const input = byId("wm-text");
      const at = input.selectionStart === null ? input.value.length : input.selectionStart;
      const end = input.selectionEnd === null ? at : input.selectionEnd;
      input.value = input.value.slice(0, at) + b.dataset.insert + input.value.slice(end);
      input.focus();
      changed();
    });
  });

  // -- the logo ---------------------------------------------------------------------------------
  function setLogo(value, name) {
    logoValue.value = value;
    logoName.textContent = value ? name : say.logo_none;
    logoRemove.hidden = !value;
    changed();
  }
  logoRemove.addEventListener("click", function () { setLogo("", ""); });
  logoFile.addEventListener("change", function () {
    const file = logoFile.files && logoFile.files[0];
    const spot = byId("wm-logo-error");
    spot.textContent = "";
    if (!file) return;
    if (file.size > doc.logo_limit) { spot.textContent = say.too_big; return; }
    const body = new FormData();
    body.append("logo", file);
    status.textContent = say.uploading;
    fetch("/api/watermark/logo" + K.q, {
      method: "POST", headers: { "X-CSRF-Token": K.csrf }, body: body, credentials: "same-origin",
    }).then(function (r) { return r.json(); }).then(function (answer) {
      logoFile.value = "";
      if (!answer || !answer.ok) {
        status.textContent = "";
        spot.textContent = (answer && answer.error) || say.failed;
        return;
      }
      setLogo(answer.logo, file.name);
      status.textContent = say.uploaded;
      if (!answer.transparent) spot.textContent = say.logo_opaque;
    }, function (e) { spot.textContent = say.failed + " " + e.message; });
  });

  // -- save ---------------------------------------------------------------------------------------
  const save = byId("wm-save");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    save.disabled = true;
    status.textContent = say.saving;
    K.post("/api/watermark" + K.q, { form: formDoc() }).then(function (answer) {
      save.disabled = false;
      if (answer && answer.ok) {
        clearErrors();
        status.textContent = say.saved;
        status.dataset.state = "saved";
      } else {
        status.textContent = say.fix;
        status.dataset.state = "error";
        showProblems(answer);
      }
    }, function (err) {
      save.disabled = false;
      status.textContent = say.failed + " " + err.message;
    });
  });

  // -- stamp what is new -------------------------------------------------------------------------
  const stampButton = byId("wm-stamp");
  let stampJob = null;
  stampButton.addEventListener("click", function () {
    stampButton.disabled = true;
    K.post("/api/watermark/stamp" + K.q, {}).then(function (job) {
      if (job && job.id) {
        stampJob = job.id;
        status.textContent = say.stamping;
        K.drawJob(job);
      } else {
        stampButton.disabled = false;
        status.textContent = say.failed + " " + ((job && job.error) || "?");
      }
    }, function () { stampButton.disabled = false; });
  });
  document.addEventListener("keepmark:job", function (e) {
    const job = e.detail;
    if (job.id !== stampJob || job.state === "running") return;
    stampButton.disabled = false;
    status.textContent = job.state === "done" ? say.stamped : say.failed + " " + (job.error || job.state);
  });

  draw();
})();
