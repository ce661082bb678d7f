import pytest
from django.core.exceptions import ValidationError

from portal.accounts.validators import uscc_check_character, validate_uscc


def test_it_accepts_a_published_code():
    validate_uscc("91350100M000100Y43")


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y44", "91350100M000100Y4", "91350100M000100Y4O", "9135010OM000100Y43", ""],
)
def test_it_refuses_wrong_codes(code):
    with pytest.raises(ValidationError):
        validate_uscc(code)


def test_it_computes_the_check_character_that_validates():
    first17 = "91310115MA1K4XY81"
    validate_uscc(first17 + uscc_check_character(first17))
