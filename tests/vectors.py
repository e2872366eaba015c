"""The published test vectors in ../shared/vectors/official.json, loaded as data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2] / "shared"
VECTORS: dict[str, Any] = json.loads((SHARED / "vectors" / "official.json").read_text("utf-8"))
