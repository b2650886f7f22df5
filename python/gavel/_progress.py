"""Progress display for batch calls: a callable, a tqdm bar, or nothing."""
from __future__ import annotations

import sys
from typing import Any, Callable, Optional


class _Bar:
    """A tqdm bar fed from gavel.Progress updates (or a plain stderr line without tqdm)."""

    def __init__(self, desc: str):
        self.desc = desc
        self.bar: Any = None
        self.plain = False

    def __call__(self, p: Any) -> None:
        handled = p.done + p.failed
        if self.bar is None and not self.plain:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self.plain = True
            else:
                self.bar = tqdm(total=p.total, desc=self.desc, unit="item")
        if self.bar is not None:
            self.bar.update(handled - self.bar.n)
            self.bar.set_postfix(new=p.judged, stored=p.cached, failed=p.failed, refresh=False)
            if handled >= p.total:
                self.bar.close()
        else:
            sys.stderr.write(
                f"\r{self.desc}: {handled}/{p.total} items ({p.judged} new, {p.cached} stored, "
                f"{p.failed} failed) {p.seconds:.1f} s" + ("\n" if handled >= p.total else ""))
            sys.stderr.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def make_progress(progress: Any, desc: str) -> tuple[Optional[Callable[[Any], None]], Any]:
    """(callback for the native call, object to close afterwards)."""
    if progress is None or progress is False:
        return None, None
    if progress is True:
        bar = _Bar(desc)
        return bar, bar
    if callable(progress):
        return progress, None
    raise TypeError("progress must be None, a bool or a callable taking a gavel.Progress")
