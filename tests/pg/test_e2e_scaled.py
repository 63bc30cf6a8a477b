"""A representative subset of the end-to-end suite, run unchanged against hubs that reach
PostgreSQL only through PgBouncer (transaction pooling) and read listings, seat labels and
analytics from a streaming replica: holds and confirms, the two-process race, idempotent
bookings, the live view's rebuild and a lost lease, and the waitlist. (The analytics report is
left out: it reads the replica, so right after a booking it may lag by the replication delay,
which the e2e test's exact figures do not allow; ``test_topology.py`` covers replica reads.)

The test functions are the e2e tier's own (imported, so they cannot drift); this package's
``conftest.py`` gives them the scaled topology's ``stores`` and hubs.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_booking_concurrency import (  # noqa: F401
    test_one_idempotency_key_makes_one_booking,
    test_parallel_bookings_never_exceed_capacity,
)
from tests.e2e.test_live import (  # noqa: F401
    test_holds_appear_live_on_the_other_process,
    test_lost_lease_fails_cleanly_and_never_oversells,
    test_wiped_redis_view_is_rebuilt_under_a_new_epoch,
)
from tests.e2e.test_race import (  # noqa: F401
    test_two_hundred_buyers_on_two_processes_never_oversell,
)
from tests.e2e.test_rest_core import (  # noqa: F401
    test_book_in_one_step_and_idempotency_key,
    test_hold_confirm_cancel_round_trip,
)
from tests.e2e.test_waitlist import (  # noqa: F401
    sold_out,
    test_concurrent_frees_offer_each_seat_once_and_skip_no_waiter,
    test_first_come_first_served_among_those_that_fit,
    test_offer_is_pushed_to_every_session_on_every_process,
)

pytestmark = [pytest.mark.pgscale, pytest.mark.e2e]
