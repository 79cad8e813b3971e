// edudial coding app: keyboard shortcuts for the buttons of the page. Plain JavaScript, no
// dependencies; the pages work without it (every control is an ordinary form button).
(function () {
  "use strict";
  var form = document.getElementById("unit-form");
  if (!form) { return; }
  var body = document.body;
  var binary = body.classList.contains("mode-binary");
  var questions = Array.prototype.slice.call(form.querySelectorAll("fieldset.question"));
  var active = parseInt(body.getAttribute("data-active") || "0", 10) || 0;
  var sending = false;

  function setActive(i) {
    if (!questions.length) { return; }
    active = Math.max(0, Math.min(questions.length - 1, i));
    questions.forEach(function (q, j) { q.classList.toggle("active", j === active); });
    questions[active].scrollIntoView({block: "nearest"});
  }

  function press(button) {
    if (!button || button.disabled || sending) { return; }
    sending = true;  // one submission per page: a held-down key never sends twice
    form.requestSubmit ? form.requestSubmit(button) : button.click();
  }

  function option(key, attr) {
    var q = questions[active] || form;
    return q.querySelector("button[" + attr + "=\"" + key + "\"]");
  }

  var actions = {ArrowLeft: "back", Backspace: "back", ArrowRight: "next", s: "skip", f: "flag"};
  var notes = document.getElementById("notes");
  var notesKey = binary ? "t" : "n";

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var t = ev.target;
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT")) {
      if (ev.key === "Escape") { t.blur(); ev.preventDefault(); }
      return;
    }
    var key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
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
  form.addEventListener("submit", function () { sending = true; });
  window.addEventListener("pageshow", function () { sending = false; });
})();
