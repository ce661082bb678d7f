"""A hot query's fixed part built once per worker (portal.core.querysets.built_once): built once,
and every caller gets a fresh clone, so no request sees another's filters or rows."""

import pytest
from django.db.models import Exists, OuterRef

from portal.accounts.models import Branch, User
from portal.core.querysets import built_once
from tests.factories import BranchFactory, EngineerFactory

pytestmark = pytest.mark.django_db


def test_the_fixed_part_is_built_once_and_each_call_is_a_fresh_clone(django_assert_num_queries):
    builds = []

    @built_once
    def branches_with_staff():
        builds.append(1)
        return Branch.objects.annotate(
            has_staff=Exists(User.objects.filter(branch=OuterRef("pk")))
        ).order_by("code")

    first, second = BranchFactory(code="B001"), BranchFactory(code="B002")
    EngineerFactory(branch=second)
    with django_assert_num_queries(1):
        rows = list(branches_with_staff())
    assert [(b.code, b.has_staff) for b in rows] == [("B001", False), ("B002", True)]

    # A request's own filter stays on its clone; the next call starts from the fixed part again.
    assert [b.code for b in branches_with_staff().filter(code="B001")] == ["B001"]
    assert branches_with_staff().query is not branches_with_staff().query

    # Rows written after a call are seen by the next one: nothing is kept but the query.
    BranchFactory(code="B003")
    EngineerFactory(branch=first)
    assert [(b.code, b.has_staff) for b in branches_with_staff()] == [
        ("B001", True), ("B002", True), ("B003", False)]
    assert len(builds) == 1

