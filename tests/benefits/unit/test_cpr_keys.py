"""The CPR key ring: sealed values name their key, so a key can be replaced without losing what the old one sealed."""

import pytest

from services.benefits.cpr import CprCipher, UnknownCprKey, key_id
from tests.benefits.events import DATA_KEYS


def test_a_new_key_put_first_seals_from_then_on_and_the_old_key_still_opens_what_it_sealed() -> None:
    before = CprCipher({"2026-01": "first-secret-of-the-ring"}, DATA_KEYS)
    sealed_before = before.seal("170590-1234", "c-1")
    rotated = CprCipher({"2026-12": "second-secret-of-the-ring", "2026-01": "first-secret-of-the-ring"}, DATA_KEYS)

    sealed_after = rotated.seal("170590-1234", "c-1")

    assert (key_id(sealed_before), key_id(sealed_after)) == ("2026-01", "2026-12")
    assert rotated.open(sealed_before, "c-1") == rotated.open(sealed_after, "c-1") == "1705901234"
    assert b"2026-12" in sealed_after and b"1705901234" not in sealed_after


def test_a_value_whose_key_left_the_ring_is_refused_naming_the_key_not_the_number() -> None:
    sealed = CprCipher({"old": "first-secret-of-the-ring"}, DATA_KEYS).seal("1705901234", "c-1")

    with pytest.raises(UnknownCprKey, match="'old'") as refused:
        CprCipher({"new": "second-secret-of-the-ring"}, DATA_KEYS).open(sealed, "c-1")
    assert "1705901234" not in str(refused.value)


@pytest.mark.parametrize("ring", [{}, {"": "a-secret"}, {"ø": "a-secret"}])
def test_an_empty_ring_or_a_key_id_that_cannot_be_stored_is_refused(ring: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        CprCipher(ring, DATA_KEYS)
