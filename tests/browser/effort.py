"""What a walk asks of the person: clicks, typed fields and page loads, counted in the
browser itself, across every tab of a context (the portal's and Microsoft's pages).

- a click is a trusted click event (Playwright's clicks and checks are trusted input),
  or a choice made in a <select>;
- a typed field is a text field (input or textarea) that got typed input, counted once
  per field of a page however often it is retyped;
- a page load is the load of a top-level document (a new tab's too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COUNTING = """
(() => {
  if (window.__effortInstalled || window.top !== window) return;
  window.__effortInstalled = true;
  document.addEventListener('click', (e) => {
    if (e.isTrusted) window.__effort('click', '');
  }, true);
  document.addEventListener('input', (e) => {
    const t = e.target;
    if (!e.isTrusted || !t || !(t.tagName === 'TEXTAREA' || t.tagName === 'INPUT')) return;
    if (['checkbox', 'radio', 'file'].includes(t.type)) return;
    window.__effort('field', location.host + location.pathname + '#' + (t.name || t.id));
  }, true);
  document.addEventListener('change', (e) => {
    if (e.isTrusted && e.target && e.target.tagName === 'SELECT') window.__effort('click', '');
  }, true);
})();
"""


@dataclass
class Effort:
    clicks: int = 0
    fields: set[str] = field(default_factory=set)
    page_loads: int = 0

    def attach(self, context: Any) -> Effort:
        """Count everything done in this context from now on."""
        context.expose_binding("__effort", self._record)
        context.add_init_script(COUNTING)
        for page in context.pages:
            self._watch(page)
        context.on("page", self._watch)
        return self

    def _watch(self, page: Any) -> None:
        page.on("load", self._loaded)

    def _loaded(self, _page: Any) -> None:
        self.page_loads += 1

    def _record(self, _source: Any, kind: str, key: str) -> None:
        if kind == "click":
            self.clicks += 1
        else:
            self.fields.add(key)

    def summary(self) -> dict[str, int]:
        return {"page_loads": self.page_loads, "clicks": self.clicks, "fields": len(self.fields)}
