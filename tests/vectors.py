"""The published test vectors in tests/data/vectors/official.json, loaded as data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
VECTORS: dict[str, Any] = json.loads((DATA / "vectors" / "official.json").read_text("utf-8"))
