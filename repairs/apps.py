from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepairsConfig(AppConfig):
    name = "repairs"
    verbose_name = _("Fault tickets and repairs")

    def ready(self):
        from notifications import kinds
        from portal.accounts.models import Role
        from portal.core import nav
        from repairs import health, loans, timeline  # noqa: F401 - health registers the ticket's health panel
        from repairs.models import FaultTicket

        kinds.register("ticket.status", _("Fault ticket status changes"))
        kinds.register("ticket.comment", _("Comments on fault tickets"))
        kinds.register("ticket.auto_closed", _("Fault tickets closed automatically"))
        kinds.register("dropoff.booking", _("Drop-off bookings"))
        kinds.register("dropoff.reminder", _("Drop-off reminders"))
        kinds.register("sla.breach", _("SLA breach warnings"), staff_only=True)
        kinds.register_statuses("ticket", FaultTicket.Status)
        kinds.register("loaner.lent", _("Loaner terminals lent"))
        kinds.register("loaner.reminder", _("Loaner terminal reminders"))
        kinds.register("loaner.returned", _("Loaner terminals returned"))
        timeline.register()
        loans.register()
        nav.register("tickets:list", _("Fault tickets"), "tools", Role.values, position=30)
        nav.register("tickets:loaner_pool", _("Loaners"), "arrow-left-right", (Role.ENGINEER, Role.ADMIN),
                     position=32, more=True)
        nav.register("tickets:likely_faulty", _("Likely faulty"), "activity", (Role.AGENT, Role.ADMIN), position=33)
        nav.register("tickets:log_call", _("Log a call"), "telephone-inbound", (Role.AGENT, Role.ADMIN), position=31)
