"""The seed documents in tests/data/seeds and the hand-built samples in data/, loaded as data.

Examples are extracted from the seed text at test time (never pasted): the JSON response example of
seed 004, the PHP request examples of seeds 000, 002 and 003, and the curl request of seed 004.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds"
DATA = Path(__file__).resolve().parent / "data"


def seed_text(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text("utf-8")


def load_sample(name: str) -> Any:
    """A hand-built JSON sample from data/, without its ``_about`` note."""
    doc = json.loads((DATA / name).read_text("utf-8"))
    doc.pop("_about", None)
    return doc


# --- seed 004: numbered JSON example and curl request ---------------------------------------------


def numbered_json_example(text: str) -> Any:
    """The JSON after 应答示例, printed with a line number glued to each line (``7  "a" : 1,``)."""
    lines: list[str] = []
    for raw in text[text.index("应答示例") :].splitlines():
        match = re.fullmatch(r"(\d+)(.*)", raw)
        if match is None:
            continue
        number, content = int(match.group(1)), match.group(2)
        if number != len(lines) + 1:
            continue
        lines.append(content)
        if content == "}":
            break
    return json.loads("\n".join(lines))


def request_line(text: str) -> tuple[str, str]:
    """(method, template) of the ``请求方式:【GET】/brand/...`` line, without the leading slash."""
    match = re.search(r"请求方式:【(\w+)】/(\S+)", text)
    assert match is not None
    return match.group(1), match.group(2)


def curl_request(text: str) -> tuple[str, str, dict[str, str]]:
    """(method, template-shaped path, query) of the curl example; query values stay strings."""
    match = re.search(r"curl -X (\w+) \\\s*\n\d+\s+(https://\S+)", text)
    assert match is not None
    url = urlsplit(match.group(2))
    return match.group(1), url.path.lstrip("/"), dict(parse_qsl(url.query))


# --- seeds 000, 002, 003: PHP request examples ----------------------------------------------------


@dataclass(frozen=True)
class SeedRequest:
    """One request example of a seed: the chain template, the verb and the PHP array it passes."""

    seed: str
    method: str
    template: str
    args: dict[str, Any]

    @property
    def path_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.args.items() if k not in ("query", "json")}


_CALL = re.compile(r"\$instance->chain\('([^']+)'\)->(\w+)Async\((\[.*?\])\)\s*\n->then", re.S)
_TOKEN = re.compile(r"\s*('(?:[^'\\]|\\.)*'|=>|\[|\]|,|-?\d+(?:\.\d+)?|true|false|null)")


def php_requests(prefix: str) -> list[SeedRequest]:
    """Every distinct request example of a seed (the declarative ``chain('…')`` style)."""
    return [
        SeedRequest(prefix, verb.upper(), template, parse_php_array(array))
        for template, verb, array in _CALL.findall(seed_text(prefix))
    ]


def parse_php_array(source: str) -> Any:
    """Parse the PHP literal subset the seeds use: nested arrays, quoted strings, numbers."""
    tokens = _tokens(source)
    value, end = _value(tokens, 0)
    assert end == len(tokens), f"trailing tokens in {source!r}"
    return value


def _tokens(source: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while source[pos:].strip():
        match = _TOKEN.match(source, pos)
        assert match is not None, f"cannot read PHP at {source[pos : pos + 20]!r}"
        out.append(match.group(1))
        pos = match.end()
    return out


def _value(tokens: list[str], i: int) -> tuple[Any, int]:
    token = tokens[i]
    if token == "[":
        return _array(tokens, i + 1)
    if token.startswith("'"):
        return re.sub(r"\\(.)", r"\1", token[1:-1]), i + 1
    if token in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[token], i + 1
    return (float(token) if "." in token else int(token)), i + 1


def _array(tokens: list[str], i: int) -> tuple[Any, int]:
    pairs: dict[Any, Any] = {}
    items: list[Any] = []
    while tokens[i] != "]":
        first, i = _value(tokens, i)
        if tokens[i] == "=>":
            pairs[first], i = _value(tokens, i + 1)
        else:
            items.append(first)
        if tokens[i] == ",":
            i += 1
    assert not (pairs and items), "mixed PHP arrays are not used by the seeds"
    return (pairs if pairs or not items else items), i + 1
