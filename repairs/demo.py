"""Demo fault tickets in different stages, made through the workflow so their timelines are real.

Idempotent: each scenario runs only when its own demo terminal has no ticket yet. The tickets sit
on terminals of their own, so the base terminals seeded by terminals.demo stay active.
"""

from repairs import dropoff, loans
from repairs.models import DropoffCapacity, FaultTicket, Satisfaction
from repairs.workflow import create_ticket, rate_ticket, ticket_transition
from terminals import loaners
from terminals import services as terminal_services
from terminals.models import Terminal

S = FaultTicket.Status


def _terminal(ctx, serial, tag, merchant, admin):
    terminal = Terminal.objects.filter(serial_number=serial).first()
    if terminal is None:
        terminal = Terminal.objects.create(
            serial_number=serial, tag_number=tag, model="VX520", manufacturer="Verifone",
            channel=ctx.channels["BANK"], home_branch=ctx.branches.get("BR001"),
        )
        terminal_services.issue_to_merchant(terminal=terminal, merchant=merchant, actor=admin)
        terminal_services.activate(terminal=terminal, actor=admin)
    ctx.terminals[serial] = terminal
    return terminal


def _ensure_active(ctx, username, admin):
    """DESIGN.md: each demo merchant keeps at least two active terminals."""
    merchant = ctx.merchants[username]
    n = 0
    while Terminal.objects.filter(merchant=merchant, status=Terminal.Status.ACTIVE).count() < 2 and n < 5:
        n += 1
        _terminal(ctx, f"DEMO-{username.upper()}-A{n}", f"TAG-{username.upper()}-A{n}", merchant, admin)


def seed(ctx):
    admin, agent, engineer = ctx.users["admin"], ctx.users["agent"], ctx.users["engineer"]
    merchant_user, merchant = ctx.users["merchant"], ctx.merchants["merchant"]

    # 1. Reported on the portal, taken by the agent: in remote diagnosis.
    t1 = _terminal(ctx, "DEMO-RP-001", "TAG-RP-001", merchant, admin)
    if not t1.tickets.exists():
        ticket = create_ticket(
            terminal=t1, actor=merchant_user, fault_type=FaultTicket.FaultType.PRINTER,
            symptoms="打印机不出纸，屏幕提示“缺纸”，但已换新纸卷。", contact_window="07:00–08:00",
        )
        ticket_transition(ticket=ticket, to=S.REMOTE_DIAGNOSIS, actor=agent, note="已联系商户，远程检查中。")

    # 2. Logged by phone, escalated to BR001, repaired; the first network test failed, the second
    #    passed: ready for pickup (the merchant sees the pickup code).
    t2 = _terminal(ctx, "DEMO-RP-002", "TAG-RP-002", merchant, admin)
    if not t2.tickets.exists():
        ticket = create_ticket(
            terminal=t2, actor=agent, fault_type=FaultTicket.FaultType.CANNOT_ACCEPT_PAYMENT,
            symptoms="刷卡后提示“通讯失败”，无法收款。", contact_window="22:00–23:00",
        )
        steps = [
            (S.AWAITING_BRANCH, agent, {"branch": "BR001", "note": "远程无法修复，请携带终端到网点。"}),
            (S.AT_BRANCH, engineer, {"tag_number": t2.tag_number, "serial_number": t2.serial_number,
                                     "documents": ["account_opening_permit", "business_licence", "operator_id"]}),
            (S.DIAGNOSING, engineer, {}),
            (S.REPAIRING, engineer, {"diagnosis": "通讯模块损坏。"}),
            (S.NETWORK_TESTING, engineer, {"work_done": "更换通讯模块。", "parts": "通讯模块 CM-200"}),
            (S.REPAIRING, engineer, {"note": "联网测试失败：握手超时。"}),
            (S.NETWORK_TESTING, engineer, {"work_done": "重新固定天线并更新固件。"}),
            (S.READY_FOR_PICKUP, engineer, {"note": "联网测试通过，交易正常。"}),
        ]
        for to, actor, fields in steps:
            ticket_transition(ticket=ticket, to=to, actor=actor, **fields)

    # 3. Resolved remotely and confirmed by the merchant: closed (history).
    t3 = _terminal(ctx, "DEMO-RP-003", "TAG-RP-003", merchant, admin)
    if not t3.tickets.exists():
        ticket = create_ticket(
            terminal=t3, actor=merchant_user, fault_type=FaultTicket.FaultType.NETWORK,
            symptoms="无法连接网络。",
        )
        ticket_transition(ticket=ticket, to=S.REMOTE_DIAGNOSIS, actor=agent)
        ticket_transition(ticket=ticket, to=S.RESOLVED_REMOTELY, actor=agent, note="远程重置网络参数后恢复。")
        ticket_transition(ticket=ticket, to=S.CLOSED, actor=merchant_user)

    # 4. A new report from the second merchant, waiting in the agents' "new" queue.
    t4 = _terminal(ctx, "DEMO-RP-004", "TAG-RP-004", ctx.merchants["merchant2"], admin)
    if not t4.tickets.exists():
        create_ticket(
            terminal=t4, actor=ctx.users["merchant2"], fault_type=FaultTicket.FaultType.PIN_ENTRY_ERROR,
            symptoms="密码键盘按键无反应。",
        )

    # Every branch takes booked drop-offs: two seats per half-hour, 09:00–17:00 on working days.
    for branch in ctx.branches.values():
        DropoffCapacity.objects.get_or_create(branch=branch, defaults={"opens_at": "09:00", "closes_at": "17:00"})

    # 5. Sent to BR001 by the agent; the merchant booked the first free drop-off slot.
    t5 = _terminal(ctx, "DEMO-RP-005", "TAG-RP-005", merchant, admin)
    if not t5.tickets.exists():
        ticket = create_ticket(
            terminal=t5, actor=merchant_user, fault_type=FaultTicket.FaultType.CARD_READER,
            symptoms="读卡器无法识别芯片卡。",
        )
        ticket_transition(ticket=ticket, to=S.REMOTE_DIAGNOSIS, actor=agent)
        ticket_transition(ticket=ticket, to=S.AWAITING_BRANCH, actor=agent, branch="BR001",
                          note="读卡模块需更换，请预约时间到网点。")
        slots = dropoff.published_slots(ticket.branch_id)
        if slots:
            dropoff.book_slot(ticket=ticket, starts_at=slots[0][1][0].starts_at, actor=merchant_user)

    # 6. The loaner pool of BR001 (three of the bank's terminals), and a terminal taken in at the
    #    branch with one of them lent to the merchant: "on loan: … — return it at pickup".
    pool = []
    for n in (1, 2, 3):
        serial = f"DEMO-LN-00{n}"
        loaner = Terminal.objects.filter(serial_number=serial).first()
        if loaner is None:
            loaner = Terminal.objects.create(
                serial_number=serial, tag_number=f"TAG-LN-00{n}", model="A920", manufacturer="PAX",
                channel=ctx.channels["BANK"],
            )
            loaners.add_to_pool(terminal=loaner, branch=ctx.branches["BR001"], actor=admin)
        pool.append(loaner)
    t6 = _terminal(ctx, "DEMO-RP-006", "TAG-RP-006", merchant, admin)
    if not t6.tickets.exists():
        ticket = create_ticket(
            terminal=t6, actor=merchant_user, fault_type=FaultTicket.FaultType.CARD_READER,
            symptoms="读卡器无法读取芯片卡。",
        )
        ticket_transition(ticket=ticket, to=S.REMOTE_DIAGNOSIS, actor=agent)
        ticket_transition(ticket=ticket, to=S.AWAITING_BRANCH, actor=agent, branch="BR001")
        ticket_transition(ticket=ticket, to=S.AT_BRANCH, actor=engineer, tag_number=t6.tag_number,
                          serial_number=t6.serial_number,
                          documents=["account_opening_permit", "business_licence", "operator_id"])
        loans.lend_loaner(ticket=ticket, actor=engineer, serial_number=pool[0].serial_number,
                          tag_number=pool[0].tag_number, tid="LN000001", mid="898310000000001")

    for username in ("merchant", "merchant2"):
        _ensure_active(ctx, username, admin)

    # The demo merchants rate their finished repairs.
    for username, rating in (("merchant", 5), ("merchant2", 4)):
        user = ctx.users[username]
        finished = FaultTicket.objects.filter(merchant_id=user.merchant_id, status__in=FaultTicket.RATABLE_STATUSES)
        for ticket in finished.exclude(pk__in=Satisfaction.objects.values("ticket_id")):
            rate_ticket(ticket=ticket, actor=user, rating=rating, comment="")
