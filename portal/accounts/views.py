from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.accounts import selectors, services
from portal.accounts.forms import MerchantDocumentForm, MerchantSearchForm, ProfileForm
from portal.accounts.models import Merchant, MerchantDocument
from portal.accounts.roles import staff_required
from portal.core.pagination import paginate, querystring_without_page
from portal.core.uploads import file_response


@staff_required
def merchant_list(request):
    form = MerchantSearchForm(request.GET or None)
    q = city = ""
    if form.is_valid():
        q, city = form.cleaned_data["q"], form.cleaned_data["city"]
    page = paginate(request, selectors.merchants_for(request.user, q=q, city=city))
    return render(
        request,
        "accounts/merchant_list.html",
        {"form": form, "page": page, "qs": querystring_without_page(request)},
    )


@login_required
def merchant_detail(request, pk):
    merchant = get_object_or_404(selectors.merchant_with_people(request.user, pk))
    return render(
        request,
        "accounts/merchant_detail.html",
        {
            "merchant": merchant,
            "users": merchant.users.all(),
            "checklist": selectors.document_checklist(merchant),
        },
    )


@login_required
def branch_list(request):
    page = paginate(request, selectors.branches_for(request.user))
    return render(request, "accounts/branch_list.html", {"page": page})


@login_required
@require_POST
def document_upload(request, pk):
    merchant = get_object_or_404(Merchant.objects.visible_to(request.user), pk=pk)
    if not (request.user.is_merchant or request.user.is_admin_role):
        raise PermissionDenied
    form = MerchantDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        services.add_merchant_document(
            merchant=merchant,
            kind=form.cleaned_data["kind"],
            uploaded=form.cleaned_data["file"],
            content_type=form.cleaned_data["content_type"],
            actor=request.user,
        )
        messages.success(request, _("Document uploaded."))
    else:
        for error in form.errors.get("file", []) + form.errors.get("kind", []):
            messages.error(request, error)
    if request.user.is_merchant:
        return redirect("home")
    return redirect("accounts:merchant", pk=merchant.pk)


@login_required
def document_download(request, pk):
    doc = get_object_or_404(MerchantDocument.objects.visible_to(request.user), pk=pk)
    return file_response(doc.file, content_type=doc.content_type, stem=f"document-{doc.pk}")


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.update_profile(user=request.user, **form.cleaned_data)
        messages.success(request, _("Profile saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@require_POST
def set_language(request):
    """Switch the UI language; a signed-in user's choice is saved to their profile."""
    from django.conf import settings

    language = request.POST.get("language", "")
    allowed = dict(settings.LANGUAGES)
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = reverse("home")
    response = HttpResponseRedirect(next_url)
    if language in allowed:
        if request.user.is_authenticated:
            services.set_language(user=request.user, language=language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response
