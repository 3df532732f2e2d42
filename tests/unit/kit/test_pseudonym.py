from jobbro.pseudonym import citizen_ref


def test_the_same_citizen_gets_the_same_reference_with_or_without_dash() -> None:
    assert citizen_ref("0101901234", "k") == citizen_ref("010190-1234", "k")


def test_the_reference_depends_on_the_key_and_hides_the_cpr_number() -> None:
    ref = citizen_ref("0101901234", "k")
    assert ref != citizen_ref("0101901234", "other") and "0101901234" not in ref
    assert ref != citizen_ref("0101901235", "k") and ref.startswith("c-") and len(ref) == 18
