"""Helpers that test modules import (fixtures stay in the ``conftest.py`` files).

- ``api``: ``PASSWORD``, ``auth(token)``, ``server_map(hub, event_id)`` over REST.
- ``servers``: ``HubProcess`` (a real ``evently serve``), ``hub_env``, ``free_port``.
- ``stores``: ``TestStores``, ``open_stores``, ``clean``, ``set_role``, ``run_sync``, ``timing``.
- ``wsclient``: ``LiveClient`` (a real ``/ws`` client keeping a seat map) and ``settle``.
- ``browser``: Debian's chromium through Playwright, signed-in pages, REST shortcuts.
- ``seats``, ``rows``, ``catalog``: data for the integration tier (a seat view loaded straight
  into Redis, raw rows, users and events through the PostgreSQL adapters).
"""
