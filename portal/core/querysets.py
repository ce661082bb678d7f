"""The fixed part of a hot query, built once per worker (`built_once`).

Django builds a queryset anew on every request, and building is not free: each `Subquery` or
`Exists` in an annotation is resolved against the outer query (its inner query cloned, its
`OuterRef`s looked up) when it is added. Building a ticket's page query with its six EXISTS
flags took 0.9 ms, before compiling or running anything (and compiling it afterwards ~0.4 ms
more than compiling a clone of one built before); cloning the built queryset takes 0.008 ms.
So a page's query is split in two: the fixed part (joins, annotations, subqueries, ordering: what
every request asks alike) is built the first time it is needed and then only cloned, and each
request adds its own filters (the user's visibility, the number asked for) and slice to the clone.

The fixed part must hold nothing that changes between requests: no user, no time (`now()`, today),
no setting or translation read at build time, and no aggregate whose meaning depends on the
filters coming first (`annotate(Count(...))` before `filter(...)` counts other rows). Subquery and
Exists annotations do not depend on the order: the outer filters only choose which rows they are
computed for.
"""

import functools

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import ValuesIterable


def built_once(build):
    """Decorate a function without arguments that returns the fixed part of a query: the first
    call builds it, every call returns a fresh clone of it (`QuerySet.all()`), so that evaluating
    or filtering one clone never touches the built queryset or another request's."""
    built = functools.cache(build)

    @functools.wraps(build)
    def fresh():
        return built().all()

    return fresh


# --- compiled once ---------------------------------------------------------------------------


def compiled_once(*types):
    """A hot read of a few columns whose SQL is compiled once per worker and database, and run with
    each call's values.

    Django compiles a queryset to SQL each time it is evaluated, and for a small indexed lookup the
    compiling is most of the cost: the public tracking lookup spent 1.1 ms of CPU compiling a query
    that PostgreSQL answered with 0.2 ms of its client's CPU. So:

        @compiled_once(str)
        def _tickets_numbered(number):
            return FaultTicket.objects.filter(service_order_no=number).values("pk", "status")[:1]

        rows = _tickets_numbered("SO20261124-0007")   # [{"pk": 7, "status": "reported"}]

    The decorated function receives one placeholder per declared type and returns a `values()`
    queryset; it is called once, and its SQL is kept with the placeholders' places among the
    parameters. Each call puts its values there (each must be of its declared type), runs the SQL and
    converts the rows as Django would (the compiler's own converters: dates on SQLite, for one), as
    dicts of the `values()` names. A placeholder must reach the parameters as it is: an equality on a
    field of its type, not inside a LIKE or a function of it; anything else is refused when the query
    is compiled. The query must not hold the time, a user, a setting or a translation (see the module
    docstring); the slice and the ordering are part of the SQL."""
    unknown = [t for t in types if t not in _PLACEHOLDERS]
    if unknown:
        raise TypeError(f"compiled_once takes str and int values, not {unknown}")

    def decorate(build):
        return _CompiledQuery(build, types)

    return decorate


# Values no caller passes, to find each one's place among the compiled parameters.
_PLACEHOLDERS = {str: "\x1fcompiled-once-{}\x1f", int: -(2**62)}


class _CompiledQuery:
    """The query of a function decorated with compiled_once, compiled at its first call on each
    database (the SQL differs between PostgreSQL and SQLite)."""

    def __init__(self, build, types):
        self.build = build
        self.types = types
        self._compiled = {}
        functools.update_wrapper(self, build)

    def _placeholders(self):
        return [
            _PLACEHOLDERS[t].format(i) if t is str else _PLACEHOLDERS[t] + i
            for i, t in enumerate(self.types)
        ]

    def _compile(self, alias):
        placeholders = self._placeholders()
        queryset = self.build(*placeholders)
        query = queryset.query
        if queryset._iterable_class is not ValuesIterable:
            raise TypeError(f"{self.__qualname__} must return a values() queryset")
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = list(params)
        slots = []
        for placeholder in placeholders:
            found = [i for i, p in enumerate(params) if p == placeholder and type(p) is type(placeholder)]
            if len(found) != 1:
                raise ValueError(f"{self.__qualname__}: a placeholder must reach the SQL's parameters once and "
                                 f"unchanged (an equality on a field of its type), not {params!r}")
            slots.append(found[0])
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return compiler, sql, params, slots, names

    def __call__(self, *values):
        if len(values) != len(self.types):
            raise TypeError(f"{self.__qualname__} takes {len(self.types)} values, not {len(values)}")
        for value, kind in zip(values, self.types, strict=True):
            if type(value) is not kind:
                raise TypeError(f"{self.__qualname__}: {value!r} is not a {kind.__name__}")
        alias = DEFAULT_DB_ALIAS
        connection = connections[alias]
        key = (alias, connection.vendor, connection.settings_dict["NAME"])
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(alias)
        compiler, sql, params, slots, names = compiled
        params = list(params)
        for slot, value in zip(slots, values, strict=True):
            params[slot] = value
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = [row[: compiler.col_count] for row in cursor.fetchall()]
        return [dict(zip(names, row, strict=True)) for row in compiler.results_iter(results=[rows])]
