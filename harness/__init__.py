"""Start real platforms and sites, and run code in them, for tests and benchmarks.

Outside ``tests/`` so that the benchmarks (``bench/``) use it too; it is not
shipped (pyproject.toml's package list names only the apps).

- ``harness.cluster``: platforms of this checkout (``Cluster``), as ``make run``
  lays them out, and running code inside one (``PlatformProcess.call``);
- ``harness.sites``: sites that install Moox Sync from its wheel;
- ``harness.proxy``: a TCP proxy that counts bytes and injects network faults;
- ``harness.processes`` and ``harness.databases``: what those share.
"""
