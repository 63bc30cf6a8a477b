"""The hold, expiry, waitlist-pool and reconcile tests of the seat view (integration tier) and
the live-view, recovery, race, waitlist, hold-outcome and cross-hub revocation tests (e2e
tier), run unchanged against the Redis
Cluster: the fixtures of ``tests/cluster/conftest.py`` hand them a cluster client and hub
processes started with ``REDIS_CLUSTER=true``.

Left out here, with their cluster counterparts in this folder: the tests that subscribe with
plain ``SUBSCRIBE`` or wipe Redis with one ``FLUSHDB`` (one node of a cluster), and the
revocation tests that write or kill connections on the store through a single-Redis client.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_hold_outcome import (  # noqa: F401
    test_expired_hold_says_expired,
    test_outcomes_active_released_confirmed,
)
from tests.e2e.test_live import (  # noqa: F401
    test_confirm_idempotency_key_is_shared_by_both_transports,
    test_expired_holds_are_announced_within_a_second,
    test_holds_appear_live_on_the_other_process,
    test_since_recovers_exactly_the_missed_deltas,
)
from tests.e2e.test_race import test_two_hundred_buyers_on_two_processes_never_oversell  # noqa: F401
from tests.e2e.test_revocation import (  # noqa: F401
    test_a_ban_closes_every_session_of_the_user_on_every_hub,
    test_logout_on_one_hub_closes_the_family_sessions_on_another,
    test_refresh_reuse_closes_the_attackers_session_on_another_hub,
)
from tests.e2e.test_waitlist import *  # noqa: F403
from tests.integration.test_seatview_holds import *  # noqa: F403
from tests.integration.test_seatview_stream import *  # noqa: F403

del test_each_change_bumps_seq_records_history_and_publishes  # noqa: F821  (plain SUBSCRIBE)
pytestmark = [pytest.mark.cluster]
