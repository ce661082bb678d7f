"""A hot query's fixed part built once per worker (portal.core.querysets.built_once): built once,
and every caller gets a fresh clone, so no request sees another's filters or rows. A hot lookup
compiled once (compiled_once): the same rows as its queryset, each call with its own values."""

import pytest
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from portal.accounts.models import Branch, User
from portal.core.querysets import built_once, compiled_once
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



def _staff_of(code):
    return (
        Branch.objects.filter(code=code)
        .annotate(staff=Count("engineers"), has_staff=Exists(User.objects.filter(branch=OuterRef("pk"))))
        .values("code", "name", "staff", "has_staff")
    )


def test_a_lookup_compiled_once_answers_as_its_queryset_with_each_calls_values(django_assert_num_queries):
    builds = []

    @compiled_once(str)
    def staff_of(code):
        builds.append(code)
        return _staff_of(code)

    first, second = BranchFactory(code="B001"), BranchFactory(code="B002")
    EngineerFactory(branch=second)
    EngineerFactory(branch=second)
    with django_assert_num_queries(1):
        rows = staff_of("B002")
    assert rows == list(_staff_of("B002")) == [{"code": "B002", "name": second.name, "staff": 2, "has_staff": True}]
    assert staff_of("B001") == [{"code": "B001", "name": first.name, "staff": 0, "has_staff": False}]
    assert staff_of("NOPE") == []
    # Rows written after a call are seen by the next one: nothing is kept but the SQL.
    EngineerFactory(branch=first)
    assert staff_of("B001")[0]["staff"] == 1
    assert len(builds) == 1


def test_a_lookup_compiled_once_converts_its_columns_as_django_does():
    @compiled_once(int)
    def joined(pk):
        return User.objects.filter(pk=pk).values("date_joined", "is_active", "branch__code")

    engineer = EngineerFactory(branch=BranchFactory(code="B009"))
    [row] = joined(engineer.pk)
    assert row == {"date_joined": engineer.date_joined, "is_active": True, "branch__code": "B009"}
    assert timezone.is_aware(row["date_joined"])  # a datetime on SQLite too, where the column is text


def test_a_lookup_compiled_once_refuses_what_it_cannot_run_safely():
    @compiled_once(str)
    def by_name(name):
        return Branch.objects.filter(name__icontains=name).values("code")

    with pytest.raises(ValueError, match="placeholder"):
        by_name("north")  # the value would be inside a LIKE pattern, escaped: not a parameter as it is

    @compiled_once(str)
    def objects(code):
        return Branch.objects.filter(code=code)

    with pytest.raises(TypeError, match="values"):
        objects("B001")

    @compiled_once(int)
    def by_pk(pk):
        return Branch.objects.filter(pk=pk).values("code")

    with pytest.raises(TypeError, match="is not a int"):
        by_pk("1")
    with pytest.raises(TypeError, match="takes 1 values"):
        by_pk(1, 2)
    with pytest.raises(TypeError, match="str and int"):
        compiled_once(float)
