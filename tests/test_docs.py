"""The repository documents itself: nothing points outside it, every relative link of the
README and docs/ resolves, docs/asyncapi.json is the hub's AsyncAPI 3 document and lists
every op and push of the WebSocket contract, and the README's two commands stay on its
first screen and in CI as written."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from web import asyncapi, ws_ops

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = "../" + "shared"  # split so this file does not match itself
SKIP_DIRS = {".git", ".venv", ".ci", "node_modules", "test-output", ".evently", "__pycache__",
             ".mypy_cache", ".ruff_cache", ".pytest_cache"}

# The WebSocket contract: client ops and server push types.
CONTRACT_OPS = {"auth", "subscribe", "unsubscribe", "hold", "extend", "release", "confirm",
                "cancel", "booking.update", "waitlist.join", "waitlist.leave",
                "analytics.subscribe", "ping"}
CONTRACT_PUSHES = {"snapshot", "delta", "recovered", "hold.expired", "booking.confirmed",
                   "booking.cancelled", "waitlist.offered", "waitlist.promoted",
                   "notification", "analytics", "auth.expired"}


def repo_files() -> list[Path]:
    out = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if path.is_file() and not SKIP_DIRS.intersection(rel.parts):
            out.append(path)
    return out


def test_nothing_in_the_repository_points_outside_it() -> None:
    hits = []
    for path in repo_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        hits += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(text.splitlines(), 1)
                 if OUTSIDE in line]
    assert hits == []


@pytest.mark.parametrize("doc", ["README.md", "docs/rest.md", "docs/architecture.md",
                                 "docs/invariants.md", "docs/loadtest.md"])
def test_relative_links_resolve(doc: str) -> None:
    path = ROOT / doc
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
    local = [link for link in links if "://" not in link and not link.startswith("/")
             and not link.startswith("mailto:")]
    missing = [link for link in local if not (path.parent / link).exists()]
    assert missing == [], f"{doc} links to missing files"


def test_readme_first_screen_and_ci_use_the_two_commands() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:25])
    assert "uv run evently serve" in first_screen
    assert "uv run pytest" in first_screen
    assert "install.sh | sh" in first_screen  # a uv install line that works on Debian/macOS
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "uv run pytest" in ci_lines


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"unresolved $ref {ref}"
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_asyncapi_document_has_the_asyncapi_3_shape() -> None:
    doc = asyncapi.document()
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    key = re.compile(r"^[A-Za-z0-9_.\-]+$")  # the spec's pattern for map keys
    for server in doc["servers"].values():
        assert server["host"] and server["protocol"] in ("ws", "wss")
    for name, channel in doc["channels"].items():
        assert key.match(name) and channel["address"] == "/ws"
        assert channel["messages"] and all(key.match(k) for k in channel["messages"])
    for ref in _refs(doc):  # every reference resolves
        _resolve(doc, ref)
    for op_id, op in doc["operations"].items():
        assert key.match(op_id)
        assert op["action"] in ("send", "receive")
        channel_ref = op["channel"]["$ref"]
        assert channel_ref.startswith("#/channels/")
        # AsyncAPI 3: an operation's messages are messages of its channel
        for m in op["messages"] + op.get("reply", {}).get("messages", []):
            assert m["$ref"].startswith(channel_ref + "/messages/"), (op_id, m)
    for message in doc["components"]["messages"].values():
        assert "payload" in message and message["name"]
    json.dumps(doc)  # plain JSON


def test_asyncapi_lists_every_op_and_push_of_the_contract_and_the_code() -> None:
    doc = asyncapi.document()
    messages = doc["components"]["messages"]

    def names(action: str) -> set[str]:
        return {op["title"] for op in doc["operations"].values() if op["action"] == action}

    assert names("receive") == CONTRACT_OPS
    assert names("send") == CONTRACT_PUSHES
    for op in doc["operations"].values():
        payload = _resolve(doc, _resolve(doc, op["messages"][0]["$ref"])["$ref"])["payload"]
        fixed = "op" if op["action"] == "receive" else "type"
        assert payload["properties"][fixed] == {"const": op["title"]}
        assert fixed in payload["required"]
    # Every op the hub serves (web/ws_ops.py's table) is documented.
    served = set(ws_ops.OPS)
    assert served and served <= CONTRACT_OPS
    assert {"ok_hold", "error", "pong"} <= set(messages)
    codes = messages["error"]["payload"]
    codes = _resolve(doc, codes["$ref"])["properties"]["code"]["enum"]
    assert {"SEAT_UNAVAILABLE", "HOLD_EXPIRED", "TOKEN_EXPIRED", "RATE_LIMITED"} <= set(codes)


def test_docs_asyncapi_json_is_the_served_document() -> None:
    written = json.loads((ROOT / "docs" / "asyncapi.json").read_text())
    assert written == json.loads(json.dumps(asyncapi.document())), (
        "docs/asyncapi.json is stale: python -m web.asyncapi > docs/asyncapi.json")


def test_serving_installs_no_test_tools() -> None:
    """The default install (what `uv run evently serve` syncs) has none of the heavy tools;
    the e2e group, which the test run installs on first use, has them all."""
    import os
    import shutil

    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        pytest.skip("uv is not on PATH")

    def export(*extra: str) -> set[str]:
        out = subprocess.run([uv, "export", "--frozen", "--no-hashes", "--no-emit-project",
                              *extra], cwd=ROOT, capture_output=True, text=True, check=True)
        return {line.split("==")[0] for line in out.stdout.splitlines() if "==" in line}

    heavy = {"playwright", "locust", "schemathesis"}
    assert "uvicorn" in export() and not heavy & export()
    assert heavy <= export("--group", "e2e")


def test_readme_documents_every_websocket_limit_setting() -> None:
    from storage.settings import Settings

    readme = (ROOT / "README.md").read_text()
    names = [f.upper() for f in Settings.model_fields
             if f.startswith("ws_") or f.startswith("rate_limit_ws_")]
    assert len(names) >= 6
    assert [n for n in names if f"`{n}`" not in readme] == []
