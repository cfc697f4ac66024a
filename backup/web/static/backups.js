// The backups pages: verify, prune (its preview first) and repair as jobs on /backups; on a
// snapshot's page, the files and folders to restore, the destination's folder picker, the plan
// ("Check") and the restore job. Uses window.Keepmark (static/app.js) for posts and jobs.
"use strict";

(function () {
  const K = window.Keepmark;
  if (!K) return;

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function withProfile(url) {
    if (!K.profile) return url;
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + "profile=" + encodeURIComponent(K.profile);
  }
  function human(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }
  function failure(doc) {
    return doc && doc.ok === false && doc.error ? doc.error : null;
  }
  // A list of paths, the first `most` of them, then "and N more".
  function pathList(paths, count, texts, most) {
    const ul = el("ul", null, "plainlist paths");
    paths.slice(0, most || 50).forEach(function (p) { ul.appendChild(el("li", typeof p === "string" ? p : p.path)); });
    const rest = (count || paths.length) - Math.min(paths.length, most || 50);
    if (rest > 0) ul.appendChild(el("li", texts.more.replace("{n}", rest), "note"));
    return ul;
  }
  // Jobs this page started: id -> what to do with the final document.
  const waiting = new Map();
  document.addEventListener("keepmark:job", function (e) {
    const job = e.detail;
    const done = waiting.get(job.id);
    if (done && job.state !== "running") {
      waiting.delete(job.id);
      done(job);
    }
  });
  function startJob(url, doc, out, onEnd) {
    return K.post(withProfile(url), doc).then(function (job) {
      const why = failure(job);
      if (why) { out.replaceChildren(el("p", why, "error")); return null; }
      waiting.set(job.id, onEnd);
      K.drawJob(job);
      return job;
    }, function (err) { out.replaceChildren(el("p", String(err), "error")); });
  }
  function jobEnd(job, out) {
    // A job that failed or was cancelled says so; its result is only there when it finished.
    if (job.state === "failed") { out.replaceChildren(el("p", job.error || job.state, "error")); return null; }
    if (job.state === "cancelled" || !job.result) { out.replaceChildren(el("p", job.state, "note")); return null; }
    return job.result;
  }

  // -- /backups -------------------------------------------------------------------------------
  const tools = document.getElementById("backups-tools");
  if (tools) {
    const texts = JSON.parse(tools.dataset.texts);
    const status = function (s) { return texts[s] || s; };

    const verifyForm = document.getElementById("verify-form");
    const verifyOut = document.getElementById("verify-outcome");
    verifyForm.addEventListener("submit", function (e) {
      e.preventDefault();
      const mode = verifyForm.querySelector("input[name=mode]:checked").value;
      const doc = { read_data: mode === "all" };
      if (verifyForm.target.value) doc.target = verifyForm.target.value;
      if (mode === "sample") doc.sample = Number(verifyForm.sample.value);
      const button = verifyForm.querySelector("button[type=submit]");
      button.disabled = true;
      verifyOut.replaceChildren();
      startJob("/api/verify", doc, verifyOut, function (job) {
        button.disabled = false;
        const result = jobEnd(job, verifyOut);
        if (!result) return;
        const box = el("div");
        box.appendChild(el("p", texts.verify_done, "done"));
        result.targets.forEach(function (t) {
          const line = el("p");
          line.appendChild(el("strong", t.name + ": " + status(t.status), "state-" + t.status));
          line.appendChild(el("span", " · " + t.checked + " " + texts.checked + " · " + t.read + " " + texts.read));
          box.appendChild(line);
          if (t.error) box.appendChild(el("p", t.error, "error"));
          if (t.problems && t.problems.length) {
            box.appendChild(el("p", texts.problems));
            box.appendChild(pathList(t.problems.map(function (p) { return p.path + " · " + p.problem; }), t.problems.length, texts));
          }
        });
        verifyOut.replaceChildren(box);
      }).then(function (job) { if (!job) button.disabled = false; });
    });

    const pruneForm = document.getElementById("prune-form");
    const pruneOut = document.getElementById("prune-outcome");
    const confirm = document.getElementById("prune-confirm");
    let planned = null;
    function drawPrune(doc, dry) {
      const box = el("div");
      if (!dry) box.appendChild(el("p", texts.prune_done, "done"));
      let anything = false;
      doc.targets.forEach(function (t) {
        box.appendChild(el("h3", t.name + ": " + status(t.status)));
        if (t.error) { box.appendChild(el("p", t.error, "error")); return; }
        box.appendChild(el("p", texts.kept + ": " + t.kept.length, "note"));
        const snaps = t.removed_snapshots, versions = t.removed_versions;
        if (snaps.length) {
          anything = true;
          box.appendChild(el("p", (dry ? texts.remove_snapshots : texts.removed_snapshots) + ": " + snaps.length));
          box.appendChild(pathList(snaps, snaps.length, texts));
        }
        if (versions.length) {
          anything = true;
          box.appendChild(el("p", (dry ? texts.remove_versions : texts.removed_versions) + ": " + versions.length));
          box.appendChild(pathList(versions, versions.length, texts));
        }
        if (t.locked && t.locked.length) {
          box.appendChild(el("p", texts.locked + ": " + t.locked.length));
          box.appendChild(pathList(t.locked.map(function (l) { return l.key; }), t.locked.length, texts));
        }
      });
      if (dry && !anything) box.appendChild(el("p", texts.nothing, "note"));
      pruneOut.replaceChildren(box);
      return anything;
    }
    pruneForm.addEventListener("submit", function (e) {
      e.preventDefault();
      confirm.hidden = true;
      planned = null;
      const doc = { dry_run: true };
      if (pruneForm.target.value) doc.target = pruneForm.target.value;
      const button = pruneForm.querySelector("button[type=submit]");
      button.disabled = true;
      K.post(withProfile("/api/prune"), doc).then(function (plan) {
        button.disabled = false;
        const why = failure(plan);
        if (why) { pruneOut.replaceChildren(el("p", why, "error")); return; }
        if (drawPrune(plan, true)) { planned = doc.target || ""; confirm.hidden = false; }
      }, function (err) { button.disabled = false; pruneOut.replaceChildren(el("p", String(err), "error")); });
    });
    pruneForm.target.addEventListener("change", function () { confirm.hidden = true; planned = null; });
    confirm.addEventListener("click", function () {
      if (planned === null) return;
      const doc = { dry_run: false };
      if (planned) doc.target = planned;
      confirm.hidden = true;
      planned = null;
      startJob("/api/prune", doc, pruneOut, function (job) {
        const result = jobEnd(job, pruneOut);
        if (result) drawPrune(result, false);
      });
    });

    document.querySelectorAll("button[data-repair]").forEach(function (button) {
      const out = document.querySelector('[data-repair-outcome="' + CSS.escape(button.dataset.repair) + '"]');
      button.addEventListener("click", function () {
        button.disabled = true;
        startJob("/api/repair", { target: button.dataset.repair }, out, function (job) {
          button.disabled = false;
          const result = jobEnd(job, out);
          if (!result) return;
          const box = el("div");
          box.appendChild(el("p", texts.repair_done, "done"));
          result.targets.forEach(function (t) {
            box.appendChild(el("p", t.name + ": " + status(t.status) + " · " + texts.repaired + " " + t.repaired.length));
            if (t.error) box.appendChild(el("p", t.error, "error"));
            if (t.left.length) {
              box.appendChild(el("p", texts.left));
              box.appendChild(pathList(t.left.map(function (l) { return l.path + " · " + l.why; }), t.left.length, texts));
            }
          });
          out.replaceChildren(box);
        }).then(function (job) { if (!job) button.disabled = false; });
      });
    });
  }

  // -- /backups/TARGET/SNAPSHOT ---------------------------------------------------------------
  const form = document.getElementById("restore-form");
  if (form) {
    const texts = JSON.parse(form.dataset.texts);
    const what = document.getElementById("restore-what");
    const whole = document.getElementById("restore-folder");
    const to = document.getElementById("restore-to");
    const overwrite = document.getElementById("restore-overwrite");
    const runButton = document.getElementById("restore-run");
    const checkButton = document.getElementById("restore-check");
    const errorLine = document.getElementById("restore-error");
    const planOut = document.getElementById("restore-plan");
    const resultOut = document.getElementById("restore-result");
    const picks = Array.from(document.querySelectorAll("input[name=pick]"));

    function chosen() {
      if (whole.checked) return [form.dataset.folder];
      return picks.filter(function (p) { return p.checked; }).map(function (p) { return p.value; });
    }
    function request() {
      return {
        target: form.dataset.target,
        snapshot: form.dataset.snapshot,
        paths: chosen(),
        to: to.value.trim(),
        overwrite: overwrite.checked,
      };
    }
    function showError(message) {
      errorLine.textContent = message || "";
      errorLine.hidden = !message;
    }
    function stale() {
      runButton.disabled = true;
      planOut.replaceChildren();
    }
    function drawWhat() {
      const paths = chosen();
      what.replaceChildren();
      if (!paths.length) what.appendChild(el("li", texts.nothing, "note"));
      paths.forEach(function (p) {
        what.appendChild(el("li", p === "" ? texts.all : (whole.checked ? p + "/ · " + texts.folder : p)));
      });
      picks.forEach(function (p) { p.closest("tr").classList.toggle("selected", p.checked && !whole.checked); });
      stale();
    }
    picks.forEach(function (p) { p.addEventListener("change", drawWhat); });
    whole.addEventListener("change", drawWhat);
    to.addEventListener("input", stale);
    overwrite.addEventListener("change", stale);
    drawWhat();

    function drawPlan(plan) {
      const box = el("div");
      if (!plan.exists) box.appendChild(el("p", texts.created, "note"));
      function section(title, cls, count, paths, note) {
        if (!count) return;
        const h = el("h3", title + ": " + count, cls);
        box.appendChild(h);
        if (note) box.appendChild(el("p", note, "note"));
        box.appendChild(pathList(paths, count, texts));
      }
      section(texts.conflicts, "conflicts", plan.conflict_count,
        plan.conflicts.map(function (c) { return c.path + " · " + human(c.existing_size) + " → " + human(c.size); }),
        plan.overwrite ? texts.replaced : texts.kept);
      section(texts.refused, "refused", plan.refused.length,
        plan.refused.map(function (r) { return r.path + " · " + r.error; }));
      section(texts.write, "write", plan.write_count, plan.write);
      section(texts.same, "same", plan.same_count, plan.same);
      planOut.replaceChildren(box);
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      showError("");
      resultOut.replaceChildren();
      const doc = request();
      if (!doc.paths.length) { showError(texts.nothing); return; }
      checkButton.disabled = true;
      K.post(withProfile("/api/restore/plan"), doc).then(function (plan) {
        checkButton.disabled = false;
        const why = failure(plan);
        if (why) { showError(why); return; }
        drawPlan(plan);
        runButton.disabled = false;
      }, function (err) { checkButton.disabled = false; showError(String(err)); });
    });
    runButton.addEventListener("click", function () {
      showError("");
      runButton.disabled = true;
      startJob("/api/restore", request(), resultOut, function (job) {
        const result = jobEnd(job, resultOut);
        if (!result) return;
        const box = el("div");
        if (result.created) box.appendChild(el("p", texts.created_done, "note"));
        const line = texts.restored + ": " + texts.files.replace("{n}", result.restored) + " (" + human(result.bytes) + ")"
          + " · " + result.already_there + " " + texts.already;
        box.appendChild(el("p", line, result.ok ? "done" : ""));
        if (result.error) box.appendChild(el("p", result.error, "error"));
        if (result.skipped.length) {
          box.appendChild(el("h3", texts.skipped + ": " + result.skipped.length, "conflicts"));
          box.appendChild(pathList(result.skipped, result.skipped.length, texts));
        }
        if (result.failed.length) {
          box.appendChild(el("h3", texts.failed + ": " + result.failed.length, "refused"));
          box.appendChild(pathList(result.failed.map(function (f) { return f.path + " · " + f.error; }), result.failed.length, texts));
        }
        resultOut.replaceChildren(box);
      }).then(function (job) { if (job) planOut.replaceChildren(); else runButton.disabled = false; });
    });

    // The destination's folder picker: the setup's listing of sub-folders, one level at a time.
    const picker = document.getElementById("restore-picker");
    const browse = document.getElementById("restore-browse");
    const pickerPath = document.getElementById("picker-path");
    const roots = document.getElementById("picker-roots");
    const folders = document.getElementById("picker-folders");
    function button(label, onClick, cls) {
      const b = el("button", label, cls || "secondary");
      b.type = "button";
      b.addEventListener("click", onClick);
      return b;
    }
    function open(path) {
      const url = "/api/restore/folders" + (path ? "?path=" + encodeURIComponent(path) : "");
      fetch(withProfile(url), { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (doc) {
        const why = failure(doc);
        if (why) {
          if (path) open("");  // a folder not made yet: start from the home folder
          else showError(why);
          return;
        }
        showError("");
        pickerPath.textContent = doc.path;
        roots.replaceChildren();
        doc.roots.forEach(function (r) {
          const li = el("li");
          li.appendChild(button(r.label, function () { open(r.path); }, "link"));
          roots.appendChild(li);
        });
        folders.replaceChildren();
        const top = el("li");
        top.appendChild(button(texts.use, function () {
          to.value = doc.path;
          picker.hidden = true;
          browse.setAttribute("aria-expanded", "false");
          stale();
          to.focus();
        }));
        if (doc.parent) top.appendChild(button(texts.up, function () { open(doc.parent); }, "link"));
        folders.appendChild(top);
        doc.folders.forEach(function (f) {
          const li = el("li");
          li.appendChild(button(f.name + "/", function () { open(f.path); }, "link"));
          folders.appendChild(li);
        });
      }, function (err) { showError(String(err)); });
    }
    browse.addEventListener("click", function () {
      picker.hidden = !picker.hidden;
      browse.setAttribute("aria-expanded", picker.hidden ? "false" : "true");
      if (!picker.hidden) open(to.value.trim());
    });
  }
})();
