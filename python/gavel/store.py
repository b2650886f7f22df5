"""gavel.Store: the SQLite judgment store that gavel.Judge(store=...) and `gavel judge`
write to."""
from __future__ import annotations

import json
import os
from typing import Any, Union

from . import _gavel
from ._gavel import StoredJudgment


class Store:
    """An opened judgment store (created empty when the file does not exist).

    Every judgment is stored once under a key hashed from everything that determines it
    (model fingerprint, protocol, prompt template, rendered prompts, decoding parameters).

    Example::

        store = gavel.Store("judgments.sqlite")
        len(store)                       # number of judgments
        store.records()[0]["record"]     # the first judgment's record, as a dict
        store.to_dataframe()             # one row per judgment (needs pandas)
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"]):
        self._native = _gavel.NativeStore(os.path.expanduser(os.fspath(path)))

    @property
    def path(self) -> str:
        return self._native.path

    def count(self) -> int:
        """Number of stored judgments."""
        return self._native.count()

    def __len__(self) -> int:
        return self.count()

    def judgments(self) -> list[StoredJudgment]:
        """Every stored judgment in insertion order (the record as JSON text)."""
        return self._native.judgments()

    def records(self) -> list[dict[str, Any]]:
        """Every stored judgment as a dict: key, created_at, protocol, model, item_id and the
        parsed record (the rows `gavel store export --format jsonl` writes)."""
        return [{"key": j.key, "created_at": j.created_at, "protocol": j.protocol,
                 "model": j.model, "item_id": j.item_id, "record": json.loads(j.record)}
                for j in self.judgments()]

    def to_dataframe(self) -> Any:
        """The records as a pandas DataFrame, nested record fields flattened to dotted
        columns (needs pandas)."""
        import pandas as pd

        return pd.json_normalize(self.records())

    def __repr__(self) -> str:
        return f"gavel.Store({self.path!r})"
