// Keepmark's page script: the live parts of the pages. Every change goes to the app with the
// page's CSRF token; news comes from /api/events (server-sent events).
"use strict";

(function () {
  const body = document.body;
  const csrf = body.dataset.csrf || "";
  const profile = body.dataset.profile || "";
  const q = profile ? "?profile=" + encodeURIComponent(profile) : "";

  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  function post(url, doc) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(doc || {}),
      credentials: "same-origin",
    }).then(function (r) { return r.json(); });
  }

  // -- jobs ---------------------------------------------------------------------------------
  const jobsList = document.getElementById("jobs");
  const jobs = new Map();
  function text(el, value) { el.textContent = value; return el; }
  function drawJob(job) {
    // A job only moves on: an answer that says "running" arriving after the stream said it
    // ended (a short job) is old news. Whoever passed it on still hears the newest: a page
    // script that starts waiting for a job once the POST answers learns it has already ended.
    const before = jobs.get(job.id);
    if (before && before.state !== "running" && job.state === "running") {
      document.dispatchEvent(new CustomEvent("keepmark:job", { detail: before }));
      return;
    }
    jobs.set(job.id, job);  // the newest heard of each job, from the stream or an answer
    document.dispatchEvent(new CustomEvent("keepmark:job", { detail: job }));
    if (!jobsList) return;
    // A job this page saw running has ended: the health, runs and snapshots have changed.
    if (before && before.state === "running" && job.state !== "running" && "reload" in jobsList.dataset) {
      setTimeout(function () { location.reload(); }, 600);
    }
    const states = JSON.parse(jobsList.dataset.states);
    const kinds = JSON.parse(jobsList.dataset.kinds);
    let li = document.getElementById("job-" + job.id);
    if (!li) {
      li = document.createElement("li");
      li.id = "job-" + job.id;
      li.className = "job";
      jobsList.prepend(li);
    }
    li.replaceChildren();
    li.dataset.state = job.state;
    const label = (kinds[job.kind] || job.kind) + " · " + (states[job.state] || job.state);
    li.appendChild(text(document.createElement("span"), label));
    const bar = document.createElement("progress");
    bar.setAttribute("aria-label", label);
    if (job.total > 0) { bar.max = job.total; bar.value = Math.min(job.done, job.total); }
    else if (job.files > 0) { bar.max = job.files; bar.value = job.files_done; }
    if (job.state !== "running") { bar.max = 1; bar.value = 1; }
    li.appendChild(bar);
    const stages = JSON.parse(jobsList.dataset.stages || "{}");
    if (job.stage) li.appendChild(text(document.createElement("small"), (stages[job.stage] || job.stage) + " " + job.files_done + "/" + job.files));
    if (job.error) li.appendChild(text(document.createElement("span"), job.error)).className = "error";
    if (job.state === "running") {
      const b = text(document.createElement("button"), jobsList.dataset.cancel);
      b.type = "button";
      b.addEventListener("click", function () { post("/api/jobs/" + job.id + "/cancel"); });
      li.appendChild(b);
    }
  }
  if (jobsList) JSON.parse(jobsList.dataset.jobs || "[]").forEach(drawJob);
  document.querySelectorAll("button[data-job]").forEach(function (button) {
    button.addEventListener("click", function () {
      button.disabled = true;
      post("/api/jobs" + q, { kind: button.dataset.job }).then(function (job) {
        button.disabled = false;
        if (job && job.id) drawJob(job);
      }, function () { button.disabled = false; });
    });
  });

  // -- the activity feed and the daemon's state ------------------------------------------------
  const feed = document.getElementById("activity");
  function addActivity(clock, message) {
    if (!feed) return;
    const li = document.createElement("li");
    if (clock) li.appendChild(text(document.createElement("time"), clock));
    li.appendChild(text(document.createElement("span"), message)).className = "message";
    feed.prepend(li);
    while (feed.children.length > 200) feed.lastChild.remove();
  }
  if (feed && !feed.children.length) feed.dataset.state = "empty";
  // "2026-12-06 23:19:02,278 INFO stamped a -> b" (the daemon's log, in local time): its time
  // of day and its message.
  function logLine(line) {
    const m = /^\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d),\d+ (?:INFO|WARNING|ERROR|CRITICAL) (.*)$/.exec(line);
    return m ? [m[1], m[2]] : ["", line];
  }
  const daemonState = document.getElementById("daemon-state");
  const daemonQueue = document.getElementById("daemon-queue");
  function drawDaemon(state) {
    if (daemonState) {
      daemonState.dataset.running = state.running ? "yes" : "no";
      daemonState.dataset.busy = state.state || "";
    }
    if (daemonQueue) daemonQueue.textContent = String(state.queue);
  }
  // Page scripts (static/*.js of one page) use these: post with the CSRF token, draw a job they
  // started, and hear of every job's news through the "keepmark:job" event on the document.
  window.Keepmark = { csrf: csrf, profile: profile, q: q, post: post, drawJob: drawJob };
  if (document.getElementById("daemon-state") || feed || jobsList) {
    // from the hub's newest message when the page was made: a job started from this page is
    // heard of even when it ends before the stream is open
    const since = "since=" + encodeURIComponent(body.dataset.eventsSince || "0");
    const events = new EventSource("/api/events" + (q ? q + "&" : "?") + since);
    events.addEventListener("daemon", function (e) { drawDaemon(JSON.parse(e.data).data); });
    events.addEventListener("activity", function (e) {
      const d = JSON.parse(e.data).data;
      if (feed) feed.dataset.state = "";
      const [clock, message] = d.line ? logLine(d.line) : [(d.time || "").slice(11, 19), [d.path, d.error].filter(Boolean).join(" · ")];
      addActivity(clock, d.text || message);  // d.text: the daemon's message in the page's language
    });
    events.addEventListener("job", function (e) { drawJob(JSON.parse(e.data).data); });
  }
})();
