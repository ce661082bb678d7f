"""The portal's base of every filter set (the lists' filters, on the pages and in the API)."""

import django_filters


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet with its form class built once per FilterSet class.

    django-filter builds a new form class for every request (a form field made for each filter,
    then a class made of them: ~0.4 ms of a 25-row API list). The portal's filters make their form
    fields from nothing of the request (choices, querysets and labels are lazy, evaluated by each
    form), so the class is kept on the FilterSet class after its first use; each request still gets
    its own filters and its own form.
    """

    def get_form_class(self):
        form_class = type(self).__dict__.get("_form_class")  # each class its own, never a parent's
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._form_class = form_class
        return form_class
