"""Load-test settings, read once from the environment.

Every knob of a run is an ``LT_*`` environment variable so that one Locust command line works
unchanged on a laptop, in CI and in ``docker compose`` (where workers get the same environment).

| variable | default | meaning |
|---|---|---|
| ``LT_OUT_DIR`` | ``loadtest/out`` | where tokens, the event file and the ledger live |
| ``LT_TOKENS_FILE`` | ``$LT_OUT_DIR/tokens.json`` | accounts prepared by ``loadtest.prepare`` |
| ``LT_EVENT_FILE`` | ``$LT_OUT_DIR/event.json`` | ``{"event_id": int}`` from ``loadtest.prepare`` |
| ``LT_EVENT_ID`` | (from the event file) | the event every user competes for |
| ``LT_LEDGER_DIR`` | ``$LT_OUT_DIR/ledger`` | client ledger, one JSONL file per Locust process |
| ``LT_HOSTS`` | (``--host``) | comma list of base URLs; users are spread over them round-robin |
| ``LT_USERS`` | ``200`` | peak users of the flash-sale shape |
| ``LT_RAMP_SECONDS`` | ``5`` | seconds to reach ``LT_USERS`` |
| ``LT_DURATION_SECONDS`` | ``60`` | hard cap on the selling phase, seconds |
| ``LT_SETTLE_SECONDS`` | ``3`` | quiet phase after the sale, before maps are recorded, seconds |
| ``LT_HOT_SHARE`` | ``0.7`` | probability that a seat picker goes for a hot section |
| ``LT_HOT_SECTIONS`` | ``1`` | how many sections count as hot: the first ones in seat-id order |
| ``LT_CONFIRM_SHARE`` | ``0.85`` | probability that a seat picker confirms rather than releases |
| ``LT_THINK_MIN`` / ``LT_THINK_MAX`` | ``0.2`` / ``1.5`` | seconds a picker thinks while holding |
| ``LT_MAX_SEATS`` | ``4`` | most seats one hold or booking asks for |
| ``LT_OP_TIMEOUT`` | ``15`` | seconds to wait for a WebSocket reply before counting a failure |
| ``LT_WS_COMPRESSION`` | ``0`` | ``1`` negotiates permessage-deflate like a browser would |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import orjson

__all__ = ["Settings", "load_settings"]


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    return float(raw) if raw.strip() else default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


@dataclass(frozen=True)
class Settings:
    """One run's settings; see the module docstring for the variables behind each field."""

    out_dir: Path
    tokens_file: Path
    event_file: Path
    ledger_dir: Path
    event_id: int | None
    hosts: tuple[str, ...]
    users: int
    ramp_seconds: float
    duration_seconds: float
    settle_seconds: float
    hot_share: float
    hot_sections: int
    confirm_share: float
    think_min: float
    think_max: float
    max_seats: int
    op_timeout: float
    ws_compression: bool

    def resolve_event_id(self) -> int:
        """The event under test: ``LT_EVENT_ID``, else the ``event_id`` in the event file.

        Raises:
            RuntimeError: neither is set.
        """
        if self.event_id is not None:
            return self.event_id
        if self.event_file.exists():
            return int(orjson.loads(self.event_file.read_bytes())["event_id"])
        raise RuntimeError(
            f"no event: set LT_EVENT_ID or run `python -m loadtest.prepare --create-event` "
            f"(looked for {self.event_file})"
        )


def load_settings() -> Settings:
    """Read the ``LT_*`` variables (see the module docstring)."""
    out_dir = Path(os.environ.get("LT_OUT_DIR", "loadtest/out"))
    event_id = os.environ.get("LT_EVENT_ID", "").strip()
    hosts = tuple(h.strip().rstrip("/") for h in os.environ.get("LT_HOSTS", "").split(",") if h)
    return Settings(
        out_dir=out_dir,
        tokens_file=Path(os.environ.get("LT_TOKENS_FILE", str(out_dir / "tokens.json"))),
        event_file=Path(os.environ.get("LT_EVENT_FILE", str(out_dir / "event.json"))),
        ledger_dir=Path(os.environ.get("LT_LEDGER_DIR", str(out_dir / "ledger"))),
        event_id=int(event_id) if event_id else None,
        hosts=hosts,
        users=_env_int("LT_USERS", 200),
        ramp_seconds=_env_float("LT_RAMP_SECONDS", 5.0),
        duration_seconds=_env_float("LT_DURATION_SECONDS", 60.0),
        settle_seconds=_env_float("LT_SETTLE_SECONDS", 3.0),
        hot_share=_env_float("LT_HOT_SHARE", 0.7),
        hot_sections=_env_int("LT_HOT_SECTIONS", 1),
        confirm_share=_env_float("LT_CONFIRM_SHARE", 0.85),
        think_min=_env_float("LT_THINK_MIN", 0.2),
        think_max=_env_float("LT_THINK_MAX", 1.5),
        max_seats=_env_int("LT_MAX_SEATS", 4),
        op_timeout=_env_float("LT_OP_TIMEOUT", 15.0),
        ws_compression=os.environ.get("LT_WS_COMPRESSION", "0") == "1",
    )
