// The proof page: a suspected repost dropped on the drop zone (or chosen with the file input)
// is sent to /api/prove as multipart/form-data with the page's CSRF token; the answer names the
// case, whose page shows the verdict, the pictures side by side and the evidence to download.
"use strict";

(function () {
  const form = document.getElementById("prove-form");
  if (!form) return;
  const input = document.getElementById("suspect-file");
  const urlInput = document.getElementById("suspect-url");
  const status = document.getElementById("prove-status");
  const error = document.getElementById("prove-error");
  const q = form.dataset.profileQ || "";
  const csrf = document.body.dataset.csrf || "";
  let busy = false;

  function send(file) {
    if (!file || busy) return;
    busy = true;
    error.textContent = "";
    status.textContent = form.dataset.working.replace("{name}", file.name);
    form.setAttribute("aria-busy", "true");
    input.disabled = true;
    const body = new FormData();
    body.append("file", file, file.name);
    if (urlInput && urlInput.value.trim()) body.append("url", urlInput.value.trim());
    fetch("/api/prove" + q, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf },
      body: body,
      credentials: "same-origin",
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, error: form.dataset.failed }; });
    }).then(function (doc) {
      if (doc && doc.case && doc.page) {
        location.assign(doc.page);
        return;
      }
      done();
      error.textContent = (doc && doc.error) || form.dataset.failed;
    }, function () {
      done();
      error.textContent = form.dataset.failed;
    });
  }

  function done() {
    busy = false;
    status.textContent = "";
    form.removeAttribute("aria-busy");
    input.disabled = false;
    input.value = "";
  }

  input.addEventListener("change", function () { send(input.files && input.files[0]); });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  ["dragenter", "dragover"].forEach(function (kind) {
    form.addEventListener(kind, function (e) {
      e.preventDefault();
      form.classList.add("over");
    });
  });
  ["dragleave", "dragend"].forEach(function (kind) {
    form.addEventListener(kind, function (e) {
      if (e.target === form) form.classList.remove("over");
    });
  });
  // A file dropped beside the zone is not opened in place of the page.
  ["dragover", "drop"].forEach(function (kind) {
    document.addEventListener(kind, function (e) {
      if (!form.contains(e.target)) e.preventDefault();
    });
  });
  form.addEventListener("drop", function (e) {
    e.preventDefault();
    form.classList.remove("over");
    const files = e.dataTransfer && e.dataTransfer.files;
    send(files && files[0]);
  });
})();
