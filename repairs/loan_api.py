"""The loaner API: lend and return on a ticket (TicketViewSet's actions call these), the pool at
/api/v1/loaners/ with each loaner's loans, and its inspection back into the pool. The same
services as the pages (repairs.loans, terminals.loaners)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.core.api import ErrorSerializer
from repairs import loans
from repairs.models import Loan
from terminals import loaners as pool
from terminals.models import Terminal


class LoanSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.service_order_no", read_only=True)
    days_out = serializers.IntegerField(read_only=True)

    class Meta:
        model = Loan
        fields = ["ticket", "serial_number", "tag_number", "tid", "mid", "outcome", "lent_at", "returned_at",
                  "days_out", "note"]


class LendSerializer(serializers.Serializer):
    serial_number = serializers.CharField(max_length=40, help_text="The loaner's serial number, checked on the device.")
    tag_number = serializers.CharField(max_length=40, help_text="The loaner's tag number, checked on the device.")
    tid = serializers.CharField(max_length=8, required=False, allow_blank=True)
    mid = serializers.CharField(max_length=15, required=False, allow_blank=True)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ReturnSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=loans.OUTCOMES, default="returned")
    serial_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    tag_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                 help_text="Needed when the loaner is missing or damaged.")


class LoanerInspectionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, help_text="What the cleaning and inspection found.")


ERRORS = {
    400: OpenApiResponse(description="Field errors (e.g. wrong serial or tag)"),
    403: OpenApiResponse(ErrorSerializer, description="Not an engineer of the branch"),
    404: OpenApiResponse(description="Not visible to the caller"),
    409: OpenApiResponse(ErrorSerializer, description="Not allowed now (not at intake, loaner not in the pool, …)"),
}


def lend(request, ticket):
    data = LendSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    loan = loans.lend_loaner(ticket=ticket, actor=request.user, **data.validated_data)
    return Response(LoanSerializer(loan).data, status=201)


def give_back(request, ticket):
    data = ReturnSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    loan = loans.return_loaner(ticket=ticket, actor=request.user, **data.validated_data)
    return Response(LoanSerializer(loan).data)


class LoanerSerializer(serializers.ModelSerializer):
    branch = serializers.CharField(source="home_branch.code", read_only=True)
    state = serializers.CharField(source="loaner_state", read_only=True)
    loaned_to = serializers.CharField(source="loaned_to.name", read_only=True, allow_null=True)

    class Meta:
        model = Terminal
        fields = ["serial_number", "tag_number", "model", "branch", "state", "loaned_to"]


class LoanerDetailSerializer(LoanerSerializer):
    loans = serializers.SerializerMethodField()

    class Meta(LoanerSerializer.Meta):
        fields = [*LoanerSerializer.Meta.fields, "loans"]

    def get_loans(self, loaner) -> list[dict]:
        return LoanSerializer(loans.loaner_history(loaner), many=True).data


class LoanerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The loaner pools the caller looks after: its branch's (engineers), every branch's (admins)."""

    lookup_field = "serial_number"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return pool.pool_for(self.request.user)

    def get_serializer_class(self):
        return LoanerDetailSerializer if self.action == "retrieve" else LoanerSerializer

    @extend_schema(summary="Cleaned and inspected: back into the pool", request=LoanerInspectionSerializer,
                   responses={200: LoanerSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def inspection(self, request, serial_number=None, **kwargs):
        loaner = self.get_object()
        data = LoanerInspectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        loaner = pool.back_to_pool(loaner=loaner, actor=request.user, note=data.validated_data["note"])
        return Response(LoanerSerializer(pool.pool_for(request.user).get(pk=loaner.pk)).data)
