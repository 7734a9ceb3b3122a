// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Read-only links to pass on are selected whole, ready to copy.
  for (const input of document.querySelectorAll("input[data-select-on-focus]")) {
    input.addEventListener("focus", () => input.select());
  }
  // Move focus to an error summary so screen readers announce it.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  // A print job's progress: asked every two seconds; the page reloads when the job ends
  // (to offer the download). Without script, the page has a "Refresh" link.
  const job = document.querySelector("[data-job-status]");
  if (job && job.dataset.jobFinished === "false") {
    const bar = document.getElementById("job-progress");
    const announce = document.getElementById("job-announce");
    const poll = async () => {
      try {
        const response = await fetch(job.dataset.jobStatus, { headers: { Accept: "application/json" } });
        if (response.ok) {
          const state = await response.json();
          bar.max = state.total || 1;
          bar.value = state.done;
          bar.textContent = `${state.percent}%`;
          announce.textContent = `${state.percent}%`;
          if (state.status === "done" || state.status === "failed") {
            window.location.reload();
            return;
          }
        }
      } catch (error) {
        // The network hiccuped: try again at the next tick.
      }
      window.setTimeout(poll, 2000);
    };
    window.setTimeout(poll, 2000);
  }
});
