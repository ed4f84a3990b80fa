"""The game driver's benchmark: real TLS clients against the driver and its
baselines, on loopback.  ``python -m bench run`` (see README.md)."""
