// Copy-to-clipboard buttons: <button data-copy="text to copy">.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  navigator.clipboard.writeText(button.dataset.copy).then(function () {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = label; }, 1500);
  });
});


// After a form error, start at the summary of what is wrong (templates/_error_summary.html),
// and let its links put the cursor in the field, not only scroll to it.
(function () {
  const summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  summary.addEventListener("click", function (event) {
    const link = event.target.closest("a[href^='#']");
    if (!link) return;
    const field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    field.focus();
    field.scrollIntoView({ block: "center" });
  });
})();

// "Show" buttons for secret fields (<input type="password" data-show-toggle="label">):
// the typed or pasted value can be checked before saving. Without JavaScript the field
// simply stays hidden.
document.querySelectorAll("input[data-show-toggle]").forEach(function (input) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-outline-secondary btn-sm mt-1";
  button.textContent = input.dataset.showToggle || "Show";
  button.setAttribute("aria-pressed", "false");
  button.setAttribute("aria-controls", input.id);
  button.addEventListener("click", function () {
    const shown = input.type === "password";
    input.type = shown ? "text" : "password";
    button.setAttribute("aria-pressed", String(shown));
    button.classList.toggle("active", shown);
  });
  // The value goes back to hidden before it is sent, so the browser does not offer to
  // remember it as ordinary text.
  if (input.form) {
    input.form.addEventListener("submit", function () {
      input.type = "password";
    });
  }
  input.insertAdjacentElement("afterend", button);
});

// A paste longer than a field's maxlength is cut by the browser without a word; say so
// next to the field (the server checks what arrives as well).
document.addEventListener("paste", function (event) {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.maxLength < 0) return;
  const pasted = (event.clipboardData || window.clipboardData).getData("text");
  const selected = (input.selectionEnd || 0) - (input.selectionStart || 0);
  const room = input.maxLength - input.value.length + selected;
  let note = document.getElementById(input.id + "_paste_cut");
  if (pasted.length <= room) {
    if (note) note.remove();
    return;
  }
  if (!note) {
    note = document.createElement("p");
    note.id = input.id + "_paste_cut";
    note.className = "form-text text-danger-emphasis paste-cut";
    note.setAttribute("role", "status");
    const anchor = input.nextElementSibling && input.nextElementSibling.matches("button")
      ? input.nextElementSibling : input;
    anchor.insertAdjacentElement("afterend", note);
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    input.setAttribute("aria-describedby", [...described, note.id].join(" "));
  }
  note.textContent = "What you pasted is " + pasted.length + " characters long, but this " +
    "field holds " + input.maxLength + ", so the end was cut off. Copy only what is asked for.";
});

// Soft warnings under a field (templates/onboarding/_warnings.html) are read out with it.
document.querySelectorAll("[data-warning-for]").forEach(function (warning) {
  const input = document.getElementById(warning.dataset.warningFor);
  if (!input) return;
  const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  input.setAttribute("aria-describedby", [...described, warning.id].join(" "));
});
