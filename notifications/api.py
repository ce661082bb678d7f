from django.utils import translation
from rest_framework import mixins, serializers, viewsets

from notifications import delivery, selectors
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()
    unread = serializers.BooleanField(source="is_unread", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "text", "url", "created_at", "read_at", "unread"]

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
