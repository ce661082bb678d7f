"""Validators for Chinese business identifiers."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: the unified social credit code uses these 31 characters (no I, O, S, V, Z).
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(rf"^[{USCC_CHARSET}]{{18}}$")
_PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")


def uscc_check_character(first17: str) -> str:
    """The check character (position 18) of a unified social credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> None:
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters."), code="uscc_length"
        )
    if not _USCC_RE.match(code):
        raise ValidationError(
            _("A unified social credit code uses only digits and capital letters other than I, O, S, V and Z."),
            code="uscc_charset",
        )
    if uscc_check_character(code[:17]) != code[17]:
        raise ValidationError(
            _("The check character of this unified social credit code is wrong: please check the code."),
            code="uscc_check",
        )


def validate_phone(value: str) -> None:
    if value and not _PHONE_RE.match(value):
        raise ValidationError(_("Enter a phone number of digits, e.g. 13800138000 or 021-12345678."))
