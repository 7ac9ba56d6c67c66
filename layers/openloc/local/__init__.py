"""The embedded local stack behind `openloc run`: moto server, Valkey, API, poller, scheduler."""
