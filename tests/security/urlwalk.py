"""Every URL pattern of the resolver, with a concrete path built for it.

The access tests walk the whole resolver rather than a hand-kept list, so a page added tomorrow is
checked tomorrow without anyone remembering to add it.
"""

import re
import re._parser as sre_parse
from dataclasses import dataclass, field
from re._constants import (
    ANY,
    AT,
    BRANCH,
    CATEGORY,
    CATEGORY_DIGIT,
    CATEGORY_WORD,
    IN,
    LITERAL,
    MAX_REPEAT,
    MIN_REPEAT,
    NEGATE,
    NOT_LITERAL,
    RANGE,
    SUBPATTERN,
)

from django.urls import URLPattern, URLResolver, get_resolver, resolve


@dataclass
class Route:
    regex: str  # the full regex, from the root
    name: str | None  # "namespace:name" or None
    callback: object
    kwargs: list[str] = field(default_factory=list)

    @property
    def label(self):
        return f"{self.name or '<unnamed>'} {self.readable}"

    @property
    def readable(self):
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", self.regex)
        return text.lstrip("^").replace("\\Z", "").rstrip("$").replace("\\", "") or "/"

    @property
    def is_api(self):
        return self.regex.lstrip("^").startswith("api/")

    @property
    def is_admin(self):
        return self.regex.lstrip("^").startswith("admin/")

    def path(self, values=None):
        """A concrete path for this pattern: `values` for named groups, a minimal match for the rest."""
        return "/" + build(self.regex, values or {})


def routes(patterns=None, prefix="", namespace=None):
    """Every endpoint of the resolver, depth first."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for p in patterns:
        regex = prefix + p.pattern.regex.pattern.lstrip("^")
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from routes(p.url_patterns, regex, ns)
        elif isinstance(p, URLPattern):
            name = p.name and (f"{namespace}:{p.name}" if namespace else p.name)
            yield Route("^" + regex, name, p.callback, list(re.compile(regex).groupindex))


def build(regex, values):
    parsed = sre_parse.parse(regex)
    names = {index: name for name, index in parsed.state.groupdict.items()}
    return _emit(parsed, names, values)


def _emit(items, names, values):
    out = []
    for op, av in items:
        if op == LITERAL:
            out.append(chr(av))
        elif op == NOT_LITERAL:
            out.append("a" if chr(av) != "a" else "b")
        elif op == ANY:
            out.append("a")
        elif op == AT:
            pass
        elif op == SUBPATTERN:
            group, _add, _del, sub = av
            name = names.get(group)
            if name in values:
                out.append(str(values[name]))
            elif name == "format":
                # DRF's format suffix: a real renderer, or the view answers 404 before anything else.
                dotted = len(sub) and sub[0] == (LITERAL, ord("."))
                out.append(".json" if dotted else "json")
            else:
                out.append(_emit(sub, names, values))
        elif op == BRANCH:
            out.append(_emit(av[1][0], names, values))
        elif op in (MAX_REPEAT, MIN_REPEAT):
            low, _high, sub = av
            out.append(_emit(sub, names, values) * max(low, 1))
        elif op == IN:
            out.append(_char_in(av))
        elif op == CATEGORY:
            out.append(_char_category(av))
        else:  # pragma: no cover - a construct our URLs do not use
            raise ValueError(f"cannot build a path for {op} in a URL regex")
    return "".join(out)


def _char_category(category):
    return "1" if category == CATEGORY_DIGIT else "a" if category == CATEGORY_WORD else "a"


def _char_in(items):
    if items and items[0][0] == NEGATE:
        excluded = {chr(v) for op, v in items[1:] if op == LITERAL}
        return next(c for c in "a1x" if c not in excluded)
    candidates = []
    for op, av in items:
        if op == LITERAL:
            candidates.append(chr(av))
        elif op == RANGE:
            low, high = av
            for c in "a1A":
                if low <= ord(c) <= high:
                    candidates.insert(0, c)
            candidates.append(chr(low))
        elif op == CATEGORY:
            candidates.insert(0, _char_category(av))
    return candidates[0]


def check_resolves(route, path):
    """The path built for a route must resolve back to the same pattern, or the test would lie.

    A pattern that an earlier one shadows (the same path always lands on the earlier pattern, e.g.
    a DRF format suffix swallowed by a lookup that allows dots, or a URL included twice) cannot be
    requested at all: the test of the earlier pattern covers that path, so this one is skipped.
    """
    import pytest

    match = resolve(path.split("?")[0])
    if match.func is not route.callback or set(match.kwargs) != set(route.kwargs):
        pytest.skip(f"{path} is served by {match.view_name} ({match.route}): this pattern is shadowed")
    return match
