"""Template tags for fragments rendered once and then served from the cache (portal.core.fragments)."""

from django import template

from portal.core.fragments import render_form_once

register = template.Library()


@register.simple_tag(takes_context=True)
def crispy_once(context, form):
    """`{% crispy form %}`, rendered once per blank form (see portal.core.fragments.render_form_once)."""
    return render_form_once(context["request"], form)
