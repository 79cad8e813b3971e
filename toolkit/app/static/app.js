// edudial coding app: keyboard shortcuts for the buttons of the page, and notes saved as they
// are typed. Plain JavaScript, no dependencies; the pages work without it (every control is an
// ordinary form button, and notes then go with the next button).
(function () {
  "use strict";
  var form = document.getElementById("unit-form");
  if (!form) { return; }
  var body = document.body;
  var binary = body.classList.contains("mode-binary");
  var questions = Array.prototype.slice.call(form.querySelectorAll("fieldset.question"));
  var active = parseInt(body.getAttribute("data-active") || "0", 10) || 0;
  // Keys count only for the unit on screen: none before this page has been shown (painted), and
  // one submission per page (set again when the browser shows the page from its cache).
  var ready = false;
  var sending = false;

  function showReady() {
    sending = false;
    // two frames after "pageshow": the unit has been painted before a key can label it
    window.requestAnimationFrame(function () {
      window.requestAnimationFrame(function () {
        ready = true;
        body.setAttribute("data-ready", "1");
      });
    });
  }

  function setActive(i) {
    if (!questions.length) { return; }
    active = Math.max(0, Math.min(questions.length - 1, i));
    questions.forEach(function (q, j) { q.classList.toggle("active", j === active); });
    questions[active].scrollIntoView({block: "nearest"});
  }

  function press(button) {
    if (!button || button.disabled || sending) { return; }
    sending = true;
    form.requestSubmit ? form.requestSubmit(button) : button.click();
  }

  function option(key, attr) {
    var q = questions[active] || form;
    return q.querySelector("button[" + attr + "=\"" + key + "\"]");
  }

  // ------------------------------------------------------------------ notes
  var notes = document.getElementById("notes");
  var notesStatus = document.getElementById("notes-status");
  var notesKey = binary ? "t" : "n";
  var savedNotes = notes ? notes.value : "";
  var notesTimer = null;

  function say(text) {
    if (notesStatus) { notesStatus.textContent = text; }
  }

  // POST the notes alone (action "notes"); the server answers 204 without a page.
  function saveNotes(leaving) {
    window.clearTimeout(notesTimer);
    if (!notes || notes.value === savedNotes || !window.fetch) { return; }
    var value = notes.value;
    var data = new FormData(form);
    data.set("notes", value);
    data.set("action", "notes");
    say("saving…");
    // getAttribute: the buttons named "action" shadow the form's .action property
    window.fetch(form.getAttribute("action"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: {"X-Requested-With": "edudial"},
      keepalive: !!leaving
    }).then(function (resp) {
      if (!resp.ok) { throw new Error(String(resp.status)); }
      if (notes.value === value) { savedNotes = value; say("note saved"); }
    }).catch(function () {
      say("note not saved yet (it goes with the next key)");
    });
  }

  if (notes) {
    notes.addEventListener("input", function () {
      window.clearTimeout(notesTimer);
      say("");
      notesTimer = window.setTimeout(saveNotes, 600);
    });
    notes.addEventListener("blur", function () { saveNotes(false); });
  }

  // ------------------------------------------------------------------ keys
  var actions = {ArrowLeft: "back", Backspace: "back", ArrowRight: "next", s: "skip", f: "flag"};

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var t = ev.target;
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT")) {
      if (ev.key === "Escape") { t.blur(); ev.preventDefault(); }
      return;
    }
    var key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    // a held-down key repeats: only the first press counts, so holding "1" codes one unit
    if (ev.repeat || !ready) {
      if (/^[0-9]$/.test(key) || key === "Enter" || actions[key]) { ev.preventDefault(); }
      return;
    }
    var target = null;
    if (/^[0-9]$/.test(key)) {
      target = option(key, "data-key");
    } else if (binary && (key === "y" || key === "n")) {
      target = option(key, "data-yn");
    } else if (key === "ArrowDown" || key === "ArrowUp") {
      setActive(active + (key === "ArrowDown" ? 1 : -1));
      ev.preventDefault();
      return;
    } else if (key === notesKey && notes) {
      notes.focus();
      ev.preventDefault();
      return;
    } else if (key === "?") {
      var help = document.querySelector("details.keys");
      if (help) { help.open = !help.open; }
      return;
    } else if (key === "Enter" && !(t && t.tagName === "BUTTON")) {
      target = form.querySelector("button[data-action=done]");
    } else if (actions[key]) {
      target = form.querySelector("button[data-action=" + actions[key] + "]");
    }
    if (target) {
      ev.preventDefault();
      press(target);
    }
  });
  form.addEventListener("submit", function () {
    sending = true;
    window.clearTimeout(notesTimer);
    if (notes) { savedNotes = notes.value; }  // the form carries the notes
  });
  window.addEventListener("pagehide", function () { saveNotes(true); });
  window.addEventListener("pageshow", showReady);
})();
