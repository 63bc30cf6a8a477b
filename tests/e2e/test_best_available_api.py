"""Best available through the hub, REST and WebSocket alike, and the seat map's optional
section ``rank`` (validated, in the OpenAPI document)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import auth
from tests.support.wsclient import LiveClient

pytestmark = pytest.mark.e2e

THEATRE = {"sections": [{"name": "Stalls", "rows": 20, "seats_per_row": 50},
                        {"name": "Circle", "rows": 12, "seats_per_row": 50, "rank": 1}]}


async def test_rest_and_ws_qty_holds_take_the_centre_of_the_best_row(
        hub, make_user, make_event) -> None:
    admin, alice, bob = make_user(role="admin"), make_user(), make_user()
    event = make_event(admin["token"], seat_map=THEATRE)
    # Circle ranks 1, so it is the best section although it comes second.
    r = httpx.post(f"{hub.url}/events/{event['id']}/holds", json={"qty": 4},
                   headers=auth(alice["token"]))
    assert r.status_code == 201, r.text
    assert r.json()["labels"] == [f"Circle A{n}" for n in (24, 25, 26, 27)]
    client = await LiveClient.connect(hub.ws_url, bob["token"])
    try:
        hold = await client.request("hold", event_id=event["id"], qty=2)
    finally:
        await client.close()
    assert sorted(hold["labels"]) == ["Circle A22", "Circle A23"]


@pytest.mark.parametrize("rank", [0, 1001, "first"])
def test_a_bad_section_rank_is_refused(hub, make_user, rank: object) -> None:
    admin = make_user(role="admin")
    body = {"name": "Bad rank", "venue": "Hall", "start_time": "2030-01-01T19:00:00Z",
            "end_time": "2030-01-01T22:00:00Z",
            "seat_map": {"sections": [{"name": "A", "rows": 1, "seats_per_row": 4,
                                       "rank": rank}]}}
    r = httpx.post(f"{hub.url}/admin/events", json=body, headers=auth(admin["token"]))
    assert r.status_code in (400, 422), r.text
    assert r.json()["error"]["code"] in ("VALIDATION_ERROR", "BAD_REQUEST")
    section = httpx.get(f"{hub.url}/openapi.json").json()["components"]["schemas"]["SectionIn"]
    assert "rank" in section["properties"]
