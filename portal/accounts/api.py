"""The profile and merchant-document pages' actions over the API, through the pages' forms and the
same services: /api/v1/profile/ (GET, PUT) and /api/v1/merchants/{id}/documents/ (POST)."""

from django.shortcuts import get_object_or_404
from django.urls import path, re_path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from portal.accounts import services
from portal.accounts.forms import MerchantDocumentForm, ProfileForm
from portal.accounts.models import Merchant, MerchantDocument, User
from portal.core.api import ID_PATH, id_parameter, object_id


def _raise_form_errors(form):
    raise ValidationError({("non_field_errors" if k == "__all__" else k): list(v) for k, v in form.errors.items()})


class ProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["username", "role", *services.PROFILE_FIELDS]
        read_only_fields = ["username", "role"]


class MerchantDocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MerchantDocument.Kind.choices)
    file = serializers.FileField(help_text="PDF, JPEG or PNG; the content is checked, not the name.")


class MerchantDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = MerchantDocument
        fields = ["id", "kind", "original_name", "content_type", "size"]
        read_only_fields = fields


class ProfileView(generics.GenericAPIView):
    """GET/PUT /api/v1/profile/: the caller's contact details and language."""

    serializer_class = ProfileSerializer

    @extend_schema(summary="Your profile", responses=ProfileSerializer)
    def get(self, request):
        return Response(ProfileSerializer(request.user).data)

    @extend_schema(summary="Change your contact details and language (fields left out are kept)",
                   request=ProfileSerializer,
                   responses={200: ProfileSerializer, 400: OpenApiResponse(description="Field errors")})
    def put(self, request):
        user = request.user
        current = {name: getattr(user, name) for name in services.PROFILE_FIELDS}
        sent = {k: v for k, v in request.data.items() if k in services.PROFILE_FIELDS}
        if any(not isinstance(v, str) for v in sent.values()):
            raise ValidationError({k: ["Not a valid string."] for k, v in sent.items() if not isinstance(v, str)})
        form = ProfileForm({**current, **sent}, instance=User.objects.get(pk=user.pk))
        if not form.is_valid():
            _raise_form_errors(form)
        services.update_profile(user=user, **form.cleaned_data)
        return Response(ProfileSerializer(user).data)


class MerchantDocumentUploadView(generics.GenericAPIView):
    """POST /api/v1/merchants/{id}/documents/: the merchant's standing documents (its users, admins)."""

    serializer_class = MerchantDocumentUploadSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(parameters=[id_parameter()], summary="Upload one of the merchant's documents (multipart: kind, file)",
                   request={"multipart/form-data": MerchantDocumentUploadSerializer},
                   responses={201: MerchantDocumentSerializer, 400: OpenApiResponse(description="Field errors"),
                              403: OpenApiResponse(description="Not your role"),
                              404: OpenApiResponse(description="No such merchant visible to you")})
    def post(self, request, pk):
        pk = object_id(pk)
        merchant = get_object_or_404(Merchant.objects.visible_to(request.user), pk=pk)
        if not (request.user.is_merchant or request.user.is_admin_role):
            raise PermissionDenied
        form = MerchantDocumentForm(request.POST, request.FILES)
        if not form.is_valid():
            _raise_form_errors(form)
        doc = services.add_merchant_document(merchant=merchant, kind=form.cleaned_data["kind"],
                                             uploaded=form.cleaned_data["file"],
                                             content_type=form.cleaned_data["content_type"], actor=request.user)
        return Response(MerchantDocumentSerializer(doc).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("profile/", ProfileView.as_view(), name="profile"),
    re_path(rf"^merchants/{ID_PATH}/documents/$", MerchantDocumentUploadView.as_view(), name="merchant-documents"),
]
