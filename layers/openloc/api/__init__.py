"""HTTP layer: ASGI apps, wire schemas, error envelopes, API keys, rate limits."""
