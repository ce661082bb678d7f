from django.shortcuts import get_object_or_404
from django.urls import path, re_path
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from notifications import delivery, selectors, services, wechat
from notifications.forms import PreferencesForm
from notifications.models import Notification, NotificationPreference
from portal.core.api import ID_PATH, id_parameter, object_id


class NotificationListSerializer(serializers.ListSerializer):
    """A page of notifications: their previews read at once (delivery.render_previews, from the
    fragments), not rendered one by one."""

    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        previews = delivery.render_previews(items, translation.get_language())
        self.child.context.setdefault("_previews", {}).update(
            {n.pk: preview for n, preview in zip(items, previews, strict=True)}
        )
        return super().to_representation(items)


class NotificationSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()
    unread = serializers.BooleanField(source="is_unread", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "text", "url", "created_at", "read_at", "unread"]
        list_serializer_class = NotificationListSerializer

    def _preview(self, obj):
        cache = self.context.setdefault("_previews", {})
        if obj.pk not in cache:
            cache[obj.pk] = delivery.render_preview(obj, translation.get_language())
        return cache[obj.pk]

    def get_subject(self, obj) -> str:
        return self._preview(obj)["subject"]

    def get_text(self, obj) -> str:
        return self._preview(obj)["line"]


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own in-app notifications, newest first."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema has no user
            return Notification.objects.none()
        return selectors.inbox(self.request.user)


# --- the inbox and settings pages' actions, calling the same services as the pages ---

class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread and are now read.")


class KindSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


@extend_schema_field({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "22:00"})
class ClockTimeField(serializers.TimeField):
    """A time of day in Asia/Shanghai, "HH:MM" (OpenAPI's `format: time` would want an offset)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class PreferencesSerializer(serializers.Serializer):
    channels = serializers.DictField(
        child=serializers.ListField(child=serializers.ChoiceField(choices=services.USER_CHANNELS), max_length=4),
        help_text="Channels per notification kind (in_app, email, sms, wechat); a kind left out keeps its "
                  "channels. Merchants always keep in_app.",
    )
    quiet_start = ClockTimeField(allow_null=True, required=False)
    quiet_end = ClockTimeField(allow_null=True, required=False)
    kinds = KindSerializer(many=True, read_only=True)
    offered_channels = serializers.ListField(child=serializers.CharField(), read_only=True)


class MarkReadView(generics.GenericAPIView):
    """POST /api/v1/notifications/{id}/read/: one of the caller's notifications read."""

    serializer_class = NotificationSerializer

    @extend_schema(parameters=[id_parameter()], summary="Mark one of your notifications read", request=None,
                   responses={200: NotificationSerializer, 404: OpenApiResponse(description="Not yours")})
    def post(self, request, pk):
        pk = object_id(pk)
        n = get_object_or_404(Notification.objects.inbox(request.user), pk=pk)
        services.mark_read(request.user, n.pk)
        n.refresh_from_db(fields=["read_at"])
        return Response(NotificationSerializer(n, context={"request": request}).data)


class MarkAllReadView(generics.GenericAPIView):
    """POST /api/v1/notifications/read-all/."""

    serializer_class = MarkedSerializer

    @extend_schema(summary="Mark all your notifications read", request=None, responses={200: MarkedSerializer})
    def post(self, request):
        return Response({"marked": services.mark_all_read(request.user)})


def _preference_state(user):
    preference = NotificationPreference.objects.filter(user=user).first()
    bound = _wechat_bound(user)
    form = PreferencesForm(user=user, preference=preference, wechat_bound=bound)
    return preference, bound, form


def _clock(value):
    return value.strftime("%H:%M") if value else None


def _wechat_bound(user):
    binding = services.wechat_binding(user) if wechat.is_configured() else None
    return binding is not None and binding.is_active


class PreferencesView(generics.GenericAPIView):
    """GET/PUT /api/v1/notifications/preferences/: the settings page's choices."""

    serializer_class = PreferencesSerializer

    def _answer(self, user):
        preference, bound, form = _preference_state(user)
        return Response({
            "channels": {kind: services.channels_for(user, kind, preference, bound) for kind, _label in form.kinds},
            "quiet_start": _clock(preference.quiet_start) if preference else None,
            "quiet_end": _clock(preference.quiet_end) if preference else None,
            "kinds": [{"code": code, "label": str(label)} for code, label in form.kinds],
            "offered_channels": list(form.offered),
        })

    @extend_schema(summary="Your notification channels per kind and quiet hours", responses=PreferencesSerializer)
    def get(self, request):
        return self._answer(request.user)

    @extend_schema(summary="Choose your channels per kind and quiet hours (the settings page's rules)",
                   request=PreferencesSerializer,
                   responses={200: PreferencesSerializer, 400: OpenApiResponse(description="Field errors")})
    def put(self, request):
        user = request.user
        data = PreferencesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preference, bound, current = _preference_state(user)
        offered = {code for code, _label in current.kinds}
        unknown = sorted(set(data.validated_data["channels"]) - offered)
        if unknown:
            raise ValidationError({"channels": [_("Unknown notification kind: %(kind)s.") % {"kind": k}
                                                for k in unknown]})
        # The page's form decides (locked in-app, WeChat only once bound, both quiet hours or none).
        chosen = {kind: services.channels_for(user, kind, preference, bound) for kind in offered}
        chosen.update(data.validated_data["channels"])
        form_data = {f"{kind}__{c}": "on" for kind, chs in chosen.items() for c in chs}
        for name in ("quiet_start", "quiet_end"):
            value = data.validated_data.get(name, getattr(preference, name, None))
            form_data[name] = value.strftime("%H:%M") if value else ""
        form = PreferencesForm(form_data, user=user, preference=preference, wechat_bound=bound)
        if not form.is_valid():
            errors = {("non_field_errors" if k == "__all__" else k): list(v) for k, v in form.errors.items()}
            raise ValidationError(errors)
        services.save_preferences(user, channels=form.channels(), quiet_start=form.cleaned_data["quiet_start"],
                                  quiet_end=form.cleaned_data["quiet_end"])
        return self._answer(user)


class DeliveryRetryView(generics.GenericAPIView):
    """POST /api/v1/notifications/deliveries/{id}/retry/: a failed delivery queued again (the log's staff)."""

    serializer_class = None

    @extend_schema(parameters=[id_parameter()], summary="Queue a failed delivery again (reviewers and administrators)", request=None,
                   responses={202: None, 403: OpenApiResponse(description="Not your role"),
                              404: OpenApiResponse(description="No such delivery"),
                              409: OpenApiResponse(description="Not a failed delivery")})
    def post(self, request, pk):
        pk = object_id(pk)
        if not request.user.is_reviewer_or_admin:
            raise PermissionDenied
        n = get_object_or_404(Notification.objects.delivery_log_for(request.user), pk=pk)
        if not services.retry(n):
            return Response({"detail": _("Only a failed delivery can be retried."), "code": "not_allowed"},
                            status=409)
        return Response(status=202)


class WechatUnbindView(generics.GenericAPIView):
    """POST /api/v1/notifications/wechat/unbind/: stop notifications on WeChat."""

    serializer_class = None

    @extend_schema(summary="Unbind your WeChat account", request=None, responses={204: None})
    def post(self, request):
        services.unbind_wechat(request.user)
        return Response(status=204)


# Registered by portal/api.py ahead of the router.
urlpatterns = [
    path("notifications/read-all/", MarkAllReadView.as_view(), name="notification-read-all"),
    path("notifications/preferences/", PreferencesView.as_view(), name="notification-preferences"),
    re_path(rf"^notifications/{ID_PATH}/read/$", MarkReadView.as_view(), name="notification-read"),
    re_path(rf"^notifications/deliveries/{ID_PATH}/retry/$", DeliveryRetryView.as_view(), name="notification-retry"),
    path("notifications/wechat/unbind/", WechatUnbindView.as_view(), name="notification-wechat-unbind"),
]
