"""The integration tier: ``storage/`` adapters, the Lua scripts, ``evently_confirm()`` and the
hub services as ``web.bootstrap`` wires them, driven directly on the real test stores (no hub
process, no HTTP), each test on freshly emptied stores."""
