"""The Redis key layout: one hash tag per event, channel names that parse back, and the Lua
scripts' derived key suffixes kept in step with :mod:`storage.keys`."""

from __future__ import annotations

import re
from pathlib import Path

from storage import keys

LUA_LIB = Path(keys.__file__).parent / "lua" / "_lib.lua"


def test_every_key_of_an_event_shares_its_hash_tag() -> None:
    tagged = [keys.event_channel(42), keys.event_meta(42), keys.event_minute(42, 7),
              keys.event_held_since(42, 3), keys.event_hold_outcome(42, "tok"),
              *(keys.event_key(42, part) for part in keys.EVENT_VIEW_PARTS)]
    assert {re.search(r"\{[^}]*\}", k).group(0) for k in tagged} == {"{e:42}"}  # type: ignore[union-attr]
    assert keys.event_meta(42) == "ev:{e:42}:meta"
    assert keys.event_channel(42) == "ev:{e:42}"


def test_channel_names_parse_back_to_ids() -> None:
    assert keys.user_id_of_channel(keys.user_channel(17)) == 17
    assert keys.event_id_of_channel(keys.event_channel(9)) == 9
    assert keys.user_id_of_channel(keys.event_channel(9)) is None
    assert keys.event_id_of_channel(keys.user_channel(17)) is None
    assert keys.user_id_of_channel(keys.HELLO_CHANNEL) is None


def test_lua_derives_its_keys_from_the_meta_key_as_keys_py_says() -> None:
    """The scripts get only ``KEYS[1]`` (the meta key) and cut the prefix and channel from it;
    every suffix they append must be one storage.keys knows."""
    lib = LUA_LIB.read_text()
    meta = keys.event_meta(5)
    assert "string.sub(META, 1, -5)" in lib and meta[:-4] == keys.event_key(5, "")
    assert "string.sub(META, 1, -6)" in lib and meta[:-5] == keys.event_channel(5)
    suffixes = set(re.findall(r"P \.\. '([a-z:]+)'", lib))
    assert suffixes, "the prefix idiom changed: update storage.keys and this test"
    known = set(keys.EVENT_VIEW_PARTS) | {"h:", "m:", "since:", "o:"}
    assert suffixes <= known, suffixes - known
    assert keys.event_hold_outcome(5, "tok") == keys.event_key(5, "o:tok")
