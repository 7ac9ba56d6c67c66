"""The per-IP limit of anonymous submissions: the IP digest."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from openloc.api.ip_limit import ip_digest


@given(st.ip_addresses().map(str), st.text(max_size=80))
def test_ip_digest_is_stable_and_does_not_contain_the_ip(ip: str, key: str) -> None:
    digest = ip_digest(ip, key)
    assert digest == ip_digest(ip, key)
    assert len(digest) == 24 and ip not in digest
