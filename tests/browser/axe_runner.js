// Runs axe-core on every page a browser test visits: on each load and after each htmx
// swap, in the top frame only (axe itself is loaded into every frame, so it can look
// inside them). Serious and critical violations go to Python through the
// __portalAxeReport binding (tests/browser/conftest.py, AxeCollector).
(() => {
  // The blank page a new tab starts on and Chromium's own error pages are not ours.
  if (window.top !== window || window.__portalAxe || !/^(https?|data):$/.test(location.protocol)) return;
  const report = (kind, payload) => {
    try {
      window.__portalAxeReport(kind, payload);
    } catch (error) {
      // The binding is gone only while the page is being torn down.
    }
  };
  let running = null;
  let again = false;
  let timer = null;
  // Whether this document's latest state has been checked; a page left before then is
  // sent as a snapshot instead (a test may click on before the load event).
  let checked = false;

  const summarise = (violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    helpUrl: violation.helpUrl,
    nodes: violation.nodes.map((node) => ({
      target: node.target.map(String),
      html: node.html,
      // The first failing check's message says what is wrong (for colour contrast:
      // the two colours and the ratio), which is what a fix needs.
      message: [...node.any, ...node.all, ...node.none].map((check) => check.message).filter(Boolean)[0] || "",
    })),
  });

  const runOnce = async () => {
    const url = location.href;
    const results = await window.axe.run(document, { resultTypes: ["violations"] });
    const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    report("result", { url, violations: serious.map(summarise) });
    checked = !again && timer === null;
  };

  const run = () => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (running) {
      // axe refuses to run twice at once: look again once this run ends.
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await runOnce();
        } catch (error) {
          report("error", { url: location.href, message: String(error && error.stack || error) });
        }
      } while (again);
      running = null;
    })();
    return running;
  };

  // A short delay lets a burst of swaps settle into one run (tests/browser/test_axe.py
  // makes it long, to leave a page before its check).
  const schedule = () => {
    checked = false;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(run, window.__portalAxeDelayMs || 20);
  };

  // What the page looked like, with its same-origin style sheets inlined, so Python
  // can check it in a blank page when the test navigated away before axe finished.
  const snapshot = () => {
    const copy = document.documentElement.cloneNode(true);
    const links = document.querySelectorAll('link[rel~="stylesheet"]');
    const copies = copy.querySelectorAll('link[rel~="stylesheet"]');
    links.forEach((link, index) => {
      let css = null;
      try {
        css = link.sheet ? [...link.sheet.cssRules].map((rule) => rule.cssText).join("\n") : null;
      } catch (error) {
        css = null; // cross-origin sheet: left as a link
      }
      if (css !== null && copies[index]) {
        const style = document.createElement("style");
        style.textContent = css;
        copies[index].replaceWith(style);
      }
    });
    copy.querySelectorAll("script").forEach((script) => script.remove());
    return "<!DOCTYPE html>" + copy.outerHTML;
  };

  window.addEventListener("load", schedule);
  document.addEventListener("htmx:afterSettle", schedule);
  window.addEventListener("beforeunload", () => {
    if (!checked || running || timer !== null) {
      report("unfinished", { url: location.href, html: snapshot() });
    }
  });
  window.__portalAxe = {
    // Resolves once no check is pending; a scheduled one is started now.
    idle: () => (timer !== null ? run() : running || Promise.resolve()),
  };
})();
