// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Read-only links to pass on are selected whole, ready to copy.
  for (const input of document.querySelectorAll("input[data-select-on-focus]")) {
    input.addEventListener("focus", () => input.select());
  }
  // Move focus to an error summary so screen readers announce it.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
});
