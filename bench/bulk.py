"""Bulk data for the benchmarks and the load tests: a bank's worth of merchants, terminals, fault
tickets with their whole stage histories, applications, deposits and the notifications they imply.

The histories are planned from the workflows' own tables: every step of a ticket or an application
is looked up in repairs.workflow.MACHINE / applications.workflow.MACHINE (a step the table lacks, or
an actor whose role may not take it, stops the load), and the terminal moves with a ticket's step
as that step's `effect` says (repairs.workflow.TERMINAL_TARGET). With them come the side effects
the workflows write: ticket events, the
terminal's own timeline, repair requests and network tests, replacement applications that close
their tickets, deregistration records, deposit accounts, and one notification row per recipient
and channel as notifications.services.notify would have written it.

Times are spread over ~18 months in Asia/Shanghai (UTC+8, no daylight saving): merchants report
in their opening hours, agents answer 8:00–20:00, branches work 9:00–17:30 on working days of the
Chinese calendar, SLA due times use the REPAIR_SLA business hours.

Everything is planned in Python first (ids are assigned here, so foreign keys need no round
trips), then loaded with COPY in one transaction (bench.pgcopy), and the sequences and
numbering counters are left consistent for the next row the portal creates.
"""

import math
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction

from bench.pgcopy import NULL, Loader, esc, jtext, ts

H = 3600
D = 86400
TZ = 8 * H  # Asia/Shanghai
WINDOW_DAYS = 540
BULK_PASSWORD = "bulk-pass-2026"  # documented in README; bulk data is refused in production

FULL = {
    "merchants": 2000,
    "slots": 16000,  # terminals in service at some point (the rest: replacements and stock)
    "terminals": 20000,
    "tickets": 200000,
    "applications": 20000,
    "branches": 60,
    "agents": 40,
    "engineers_per_branch": 3,
    "reviewers": 12,
}

CITIES = [
    ("上海", "310115", "021", "浦东新区"), ("杭州", "330106", "0571", "西湖区"), ("北京", "110105", "010", "朝阳区"),
    ("广州", "440106", "020", "天河区"), ("深圳", "440305", "0755", "南山区"), ("南京", "320102", "025", "玄武区"),
    ("苏州", "320505", "0512", "高新区"), ("成都", "510107", "028", "武侯区"), ("武汉", "420106", "027", "武昌区"),
    ("西安", "610113", "029", "雁塔区"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "霞",
         "平", "刚", "桂英", "建华", "海燕", "晓东", "志强", "丽娟", "国庆", "春梅", "文博", "子涵"]
SHOP_WORDS = ["鑫源", "华美", "兴隆", "福满", "金鼎", "永盛", "佳和", "德顺", "百味", "新天地", "惠民", "优品",
              "盛世", "如意", "嘉禾", "万家", "康乐", "聚福", "恒通", "乐购"]
SHOP_KINDS = ["便利店", "超市", "餐厅", "面馆", "药房", "服装店", "茶餐厅", "水果店", "烘焙坊", "五金店", "书店",
              "咖啡馆", "火锅店", "花店", "数码店", "母婴店"]
MODELS = [("P2", "商米"), ("A8", "联迪"), ("S90", "百富"), ("N910", "新大陆"), ("ME31", "新国都"), ("X990", "惠尔丰")]
CHANNELS = [
    ("BXBANK", "本行收单（批量）", "bank", ""),
    ("BXHUITONG", "汇通支付有限公司", "payment_company", "Z2026010100001"),
    ("BXLIANFU", "联付科技有限公司", "payment_company", "Z2026010100002"),
    ("BXYISHOU", "易收宝支付有限公司", "payment_company", "Z2026010100003"),
]
FAULTS = {
    "cannot_accept_payment": ["刷卡后提示交易失败，无法收款", "扫码支付一直显示处理中", "所有交易均被拒绝"],
    "system_fault": ["开机后卡在启动画面", "系统频繁重启", "提示应用程序异常退出"],
    "pin_entry_error": ["密码键盘按键无反应", "输入密码后提示密码错误", "密码键盘显示乱码"],
    "card_reader": ["磁条卡刷不出", "IC卡插卡无反应", "非接读卡距离很短"],
    "printer": ["打印机不出纸", "小票打印字迹很淡", "打印时卡纸"],
    "network": ["无法连接网络，提示通讯失败", "4G信号弱，交易经常超时", "WiFi连接后仍提示无网络"],
    "display": ["屏幕花屏", "触摸屏失灵", "屏幕亮度很低看不清"],
    "power": ["电池无法充电", "开不了机", "充电器插上无反应"],
    "other": ["外壳破损", "按键脱落", "设备发热严重"],
}
FAULT_WEIGHTS = [14, 12, 6, 12, 16, 14, 8, 10, 8]
NOTES = {
    "resolved_remotely": ["远程指导商户重启并重新签到后恢复", "远程下发参数后交易正常", "指导商户更换网络后恢复"],
    "awaiting_branch": ["远程无法解决，请商户携带设备到网点", "需要网点检测硬件"],
    "diagnosis": ["主板故障", "打印模块损坏", "读卡模块接触不良", "电池老化", "屏幕排线松动", "通讯模块故障"],
    "work_done": ["更换打印模块", "更换读卡模块", "更换电池", "重新固定屏幕排线", "更换通讯模块", "清洁并重装系统"],
    "parts": ["打印模块", "读卡模块", "电池", "屏幕排线", "4G模块", ""],
    "test_fail": ["联网测试交易超时", "签到失败，需重新检查通讯模块", "测试交易未返回应答"],
    "test_pass": ["联网测试通过：签到、消费、撤销均正常", "联网测试通过"],
    "unrepairable": ["主板烧毁，无维修价值", "设备进水，主板腐蚀", "型号已停产，无备件"],
    "cancel": ["商户自行解决，取消工单", "重复报修", "商户暂不需要维修"],
    "reopen": ["还是无法收款", "问题又出现了"],
}
TICKET_PATHS = [("remote", 42), ("cancel", 8), ("branch", 48.5), ("unrepairable", 1.5)]
NEW_APP_OUTCOMES = [
    ("rejected", 28), ("withdrawn", 18), ("draft", 10), ("submitted", 9), ("needs_info", 6), ("under_review", 10),
    ("inspection", 7), ("approved", 4), ("contract_signed", 4), ("device_assigned", 4),
]
HOURS = {  # (opens, closes, working days only)
    "merchant": (8.0, 21.5, False),
    "agent": (8.0, 20.0, False),
    "branch": (9.0, 17.5, True),
    "office": (9.0, 18.0, True),
}


def scaled(scale):
    n = {k: v * scale for k, v in FULL.items()}
    out = {
        "merchants": max(4, round(n["merchants"])),
        "slots": max(8, round(n["slots"])),
        "terminals": max(12, round(n["terminals"])),
        "tickets": max(20, round(n["tickets"])),
        "applications": max(10, round(n["applications"])),
        "branches": max(3, round(n["branches"])),
        "agents": max(2, round(n["agents"])),
        "engineers_per_branch": FULL["engineers_per_branch"] if scale >= 0.05 else 2,
        "reviewers": max(2, round(n["reviewers"])),
    }
    return out


# --- time ----------------------------------------------------------------------------------


class Clock:
    """Local (UTC+8) office hours and working days, on epoch seconds."""

    def __init__(self, rng):
        self.rng = rng
        self._workdays = {}
        from repairs import sla

        self._is_workday = sla.is_workday
        self.sla_hours = settings.REPAIR_SLA_HOURS
        self.sla_start = self._hours(settings.REPAIR_SLA_DAY_START)
        self.sla_end = self._hours(settings.REPAIR_SLA_DAY_END)

    @staticmethod
    def _hours(value):
        h, m = str(value).split(":")[:2]
        return int(h) * H + int(m) * 60

    @staticmethod
    def day(t):
        return (t + TZ) // D

    @staticmethod
    def date(t):
        return date.fromordinal(719163 + (t + TZ) // D)  # 719163 = date(1970, 1, 1).toordinal()

    def workday(self, day):
        cached = self._workdays.get(day)
        if cached is None:
            cached = self._workdays[day] = bool(self._is_workday(date.fromordinal(719163 + day)))
        return cached

    def within(self, t, kind):
        """`t`, or the next moment the people of `kind` are at work."""
        if kind == "system":
            return t
        opens, closes, workdays = HOURS[kind]
        for _ in range(40):
            day = self.day(t)
            hour = ((t + TZ) % D) / H
            open_today = not workdays or self.workday(day)
            if open_today and opens <= hour < closes:
                return t
            if open_today and hour < opens:
                return day * D - TZ + int(opens * H) + self.rng.randint(0, 45 * 60)
            t = (day + 1) * D - TZ
        return t

    def after(self, t, seconds, kind):
        return self.within(t + int(seconds), kind)

    def sla_due(self, t, priority):
        """repairs.sla.due_at on epoch seconds (same calendar, same working day)."""
        remaining = self.sla_hours.get(priority, self.sla_hours["normal"]) * H
        day = self.day(t)
        cursor = t
        for _ in range(400):
            if self.workday(day):
                opens = day * D - TZ + self.sla_start
                closes = day * D - TZ + self.sla_end
                begin = max(opens, cursor)
                if begin < closes:
                    if remaining <= closes - begin:
                        return begin + remaining
                    remaining -= closes - begin
            day += 1
            cursor = day * D - TZ
        raise ValueError("SLA too long")


# --- the plan ------------------------------------------------------------------------------


@dataclass
class Person:
    id: int
    name: str
    role: str
    merchant: int | None = None
    branch: int | None = None
    email: bool = False
    phone: bool = False

    def channels(self):
        # notifications.services.channels_for with the bulk preferences: staff chose
        # in-app only; merchants keep the defaults (in-app, e-mail and SMS where they have them).
        if self.role != "merchant":
            return ("in_app",)
        return ("in_app",) + (("email",) if self.email else ()) + (("sms",) if self.phone else ())


@dataclass
class Terminal:
    id: int
    serial: str
    tag: str
    model: str
    maker: str
    channel: int
    merchant: int | None
    branch: int | None
    tid: str
    mid: str
    created: int
    status: str = "in_stock"
    activated: int | None = None
    retired: int | None = None
    updated: int = 0
    moves: list = field(default_factory=list)  # (t, kind, from, to, actor, note, merchant)

    def move(self, t, to, actor, note=""):
        if self.status == to:
            return
        self.moves.append((t, "status", self.status, to, actor, note, self.merchant))
        self.status = to
        self.updated = t
        if to == "active" and self.activated is None:
            self.activated = t
        if to == "retired":
            self.retired = t


@dataclass
class Ticket:
    created: int
    terminal: Terminal
    merchant: int
    fault: str
    symptoms: str
    priority: str
    source: str
    reporter: int
    branch: int | None = None
    agent: Person | None = None
    events: list = field(default_factory=list)  # (t, from, to, actor, note, kind)
    rr: dict | None = None
    tests: list = field(default_factory=list)
    sla_due: int | None = None
    closed: int | None = None
    status: str = "reported"
    id: int = 0
    number: str = ""
    app: object = None  # the replacement application, if any


@dataclass
class App:
    created: int
    merchant: int
    kind: str
    channel: int
    quantity: int
    fee_plan: str
    creator: int
    ticket: Ticket | None = None
    reviewer: Person | None = None
    status: str = "draft"
    events: list = field(default_factory=list)  # (t, kind, from, to, actor, note, public)
    docs: list = field(default_factory=list)  # (kind, uploaded_at, verdict, verdict_at)
    terminals: list = field(default_factory=list)
    assigned_at: int | None = None
    submitted: int | None = None
    changed: int = 0
    fields: dict = field(default_factory=dict)
    id: int = 0
    number: str = ""
    deposit: dict | None = None


class Plan:
    def __init__(self, *, scale, seed, now=None, log=print):
        self.rng = random.Random(seed)
        self.n = scaled(scale)
        self.scale = scale
        self.now = int(now or time.time())
        self.start = self.now - WINDOW_DAYS * D
        self.clock = Clock(self.rng)
        self.log = log
        self.ids = {}
        self.roles = {}  # user id -> role, for checking each step against the workflow's table

    def next_id(self, table):
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]

    # --- people and places ---------------------------------------------------------------

    def _name(self):
        r = self.rng
        return r.choice(SURNAMES), r.choice(GIVEN)

    def build_people(self, base):
        r = self.rng
        self.branches = []
        for i in range(self.n["branches"]):
            city = CITIES[i % len(CITIES)]
            self.branches.append({
                "id": base["branch"] + i + 1, "code": f"BX{i + 1:03d}", "city": city[0],
                "name": f"{city[0]}{city[3]}第{i // len(CITIES) + 1}支行",
                "address": f"{city[0]}市{city[3]}金融路{100 + i}号", "phone": f"{city[2]}-6{i + 1:07d}"[:20],
                "hours": "周一至周五 9:00–17:30",
            })
        self.branches_by_city = {}
        for b in self.branches:
            self.branches_by_city.setdefault(b["city"], []).append(b)
        self.channels = [
            {"id": base["channel"] + i + 1, "code": c[0], "name": c[1], "kind": c[2], "licence": c[3]}
            for i, c in enumerate(CHANNELS)
        ]
        uid = base["user"]
        self.users = []

        def person(role, **kw):
            nonlocal uid
            uid += 1
            family, given = self._name()
            p = Person(uid, family + given, role, **kw)
            p.family, p.given = family, given
            self.users.append(p)
            self.roles[uid] = role
            return p

        self.agents = []
        for i in range(self.n["agents"]):
            p = person("agent")
            p.username = f"bulk-agent{i + 1:03d}"
            self.agents.append(p)
        self.engineers = {}
        for b in self.branches:
            self.engineers[b["id"]] = []
            for j in range(self.n["engineers_per_branch"]):
                p = person("engineer", branch=b["id"])
                p.username = f"bulk-eng-{b['code'].lower()}-{j + 1}"
                self.engineers[b["id"]].append(p)
        self.reviewers = []
        for i in range(self.n["reviewers"]):
            p = person("reviewer")
            p.username = f"bulk-reviewer{i + 1:02d}"
            self.reviewers.append(p)

        self.merchants = []
        self.merchant_users = {}
        for i in range(self.n["merchants"]):
            city = CITIES[r.randrange(len(CITIES))]
            mid = base["merchant"] + i + 1
            serial = base["uscc"] + i
            org = _base31(serial, 9)
            first17 = f"92{city[1]}{org}"
            from portal.accounts.validators import uscc_check_character

            opens = r.choice([7, 8, 9, 10])
            self.merchants.append({
                "id": mid, "city": city[0], "name": f"{city[0]}{r.choice(SHOP_WORDS)}{r.choice(SHOP_KINDS)}",
                "credit_code": first17 + uscc_check_character(first17),
                "contact": "".join(self._name()), "phone": f"13{(700000000 + mid) % 10**9:09d}",
                "address": f"{city[0]}市{city[3]}商业街{r.randint(1, 999)}号", "opens": f"{opens:02d}:00",
                "closes": f"{r.choice([20, 21, 22]):02d}:00", "channel": self._channel_choice(),
                "mid": f"898{city[1][:4]}{mid:08d}"[:15],
            })
            owner = person("merchant", merchant=mid, phone=True, email=r.random() < 0.3)
            owner.username = f"bulk-m{i + 1:05d}"
            owner.owner = True
            users = [owner]
            if r.random() < 0.2:
                op = person("merchant", merchant=mid)
                op.username = f"bulk-m{i + 1:05d}-op"
                op.owner = False
                users.append(op)
            self.merchant_users[mid] = users
        self.user_by_id = {u.id: u for u in self.users}

    def _channel_choice(self):
        return self.channels[0]["id"] if self.rng.random() < 0.6 else self.rng.choice(self.channels[1:])["id"]

    # --- terminals ----------------------------------------------------------------------

    def new_terminal(self, created, channel, merchant=None, branch=None):
        i = self.next_id("terminal")
        tid = self.base["terminal"] + i
        model, maker = MODELS[tid % len(MODELS)]
        m = self.merchant_by_id.get(merchant) if merchant else None
        t = Terminal(
            id=tid, serial=f"BX{model}{tid:09d}", tag=f"BXT{tid:09d}", model=model, maker=maker,
            channel=channel, merchant=merchant, branch=branch, tid=f"B{tid:07d}"[-8:],
            mid=m["mid"] if m else "", created=created, updated=created,
        )
        t.moves.append((created, "created", "", "in_stock", None, "", None))
        self.terminals.append(t)
        return t

    # --- applications -------------------------------------------------------------------

    def new_app(self, created, merchant, kind, quantity, ticket=None):
        r = self.rng
        users = self.merchant_users[merchant]
        plan = r.choices(["purchase", "deposit", "free"], [50, 35, 15])[0] if kind == "new" else "free"
        app = App(created=created, merchant=merchant, kind=kind, channel=self.merchant_by_id[merchant]["channel"],
                  quantity=quantity, fee_plan=plan, creator=users[0].id, ticket=ticket)
        app.changed = created
        app.events.append((created, "status", "", "draft", users[0].id, "", True, "", ""))
        for k, kind_ in enumerate(("business_licence", "legal_rep_id", "premises_proof")):
            at = created + 60 * (k + 1)
            app.docs.append([kind_, at, "pending", None, None])
            app.events.append((at, "document", "", "", users[0].id, "", True, "uploaded", kind_))
        self.apps.append(app)
        return app

    def run_app(self, app, target="activated"):
        """Walk `app` along the happy path up to `target` (or rejected/withdrawn), stopping at now."""
        from applications.workflow import MACHINE as APPLICATIONS

        r, c = self.rng, self.clock
        owner = self.merchant_users[app.merchant][0].id
        reviewer = r.choice(self.reviewers)
        rev = reviewer.id
        t = app.created

        def step(to, seconds, kind, actor, note="", event_kind="status", public=True, action="", subject=""):
            nonlocal t
            nt = c.after(t, seconds, kind)
            if nt > self.now:
                return False
            t = nt
            if actor == rev:
                app.reviewer = reviewer
            if event_kind == "status":
                self.workflow_step(APPLICATIONS, app.status, to, actor)
                app.events.append((t, "status", app.status, to, actor, note, public, "", ""))
                app.status = to
                app.changed = t
            else:
                app.events.append((t, event_kind, "", "", actor, note, public, action, subject))
            return True

        if target == "draft":
            return t
        if target == "withdrawn" and r.random() < 0.3:
            step("withdrawn", r.uniform(0.5, 5) * D, "merchant", owner, "暂不需要")
            return t
        if not step("submitted", r.uniform(0.05, 2) * D, "merchant", owner):
            return t
        app.submitted = t
        if target == "submitted":
            return t
        if target == "withdrawn" and r.random() < 0.4:
            step("withdrawn", r.uniform(0.2, 3) * D, "merchant", owner, "改用其他渠道")
            return t
        if not step("under_review", r.uniform(0.2, 2) * D, "office", rev):
            return t
        if target == "needs_info" or r.random() < 0.12:
            if not step("needs_info", r.uniform(0.2, 1) * D, "office", rev, "营业执照照片不清晰，请重新上传"):
                return t
            if target == "needs_info":
                return t
            if not step("submitted", r.uniform(0.5, 3) * D, "merchant", owner, "已重新上传"):
                return t
            if not step("under_review", r.uniform(0.2, 1) * D, "office", rev):
                return t
        if target == "under_review":
            return t
        if target == "withdrawn":
            step("withdrawn", r.uniform(0.5, 3) * D, "merchant", owner, "暂不需要")
            return t
        for doc in app.docs:
            if not step(None, r.uniform(600, 3600), "office", rev, "", "document", True, "verified", doc[0]):
                return t
            doc[2], doc[3], doc[4] = "verified", t, rev
        if target == "rejected" and r.random() < 0.5:
            step("rejected", r.uniform(0.2, 1) * D, "office", rev, "经营场所与申请资料不符")
            return t
        if not step("inspection", r.uniform(0.5, 2) * D, "office", rev):
            return t
        if not step(None, r.uniform(1, 5) * D, "office", rev, "面谈及现场核查完成，经营场所真实", "record", False,
                    "inspection"):
            return t
        app.fields["interview_date"] = c.date(t - D)
        app.fields["inspection_date"] = c.date(t)
        app.fields["interview_notes"] = "法人到场面谈，了解经营情况"
        app.fields["inspection_notes"] = "现场核查：门店正常营业，收银台位置合适"
        if target == "inspection":
            return t
        if target == "rejected":
            step("rejected", r.uniform(0.2, 2) * D, "office", rev, "现场核查未通过")
            return t
        if not step("approved", r.uniform(0.5, 2) * D, "office", rev):
            return t
        if target == "approved":
            return t
        if not step("contract_signed", r.uniform(1, 5) * D, "office", rev):
            return t
        app.fields["contract_number"] = f"HT{c.date(t):%Y}{self.base['app_contract'] + len(self.apps):07d}"
        app.fields["contract_signed_on"] = c.date(t)
        if target == "contract_signed":
            return t
        if app.kind == "replacement":
            old = app.ticket.terminal
            method = "destroyed" if r.random() < 0.4 else "returned"
            if not step(None, r.uniform(0.2, 2) * D, "office", rev, "", "record", True, "deregistration", method):
                return t
            self.deregistrations.append((old, method, t, rev, app.merchant))
            old.move(t, "destroyed" if method == "destroyed" else "deregistered", rev, app)
        if not step("device_assigned", r.uniform(1, 4) * D, "office", rev):
            return t
        app.assigned_at = t
        for _ in range(app.quantity):
            term = self.new_terminal(t - r.randint(20, 200) * D, app.channel)
            term.merchant = app.merchant
            term.mid = self.merchant_by_id[app.merchant]["mid"]
            term.branch = self._home_branch(app.merchant)
            term.move(t, "pending_activation", rev, app)
            app.terminals.append(term)
        if target == "device_assigned":
            return t
        if not step("activated", r.uniform(1, 3) * D, "office", rev, "已完成开通及操作员培训"):
            return t
        app.fields["activated_on"] = c.date(t)
        app.fields["training_date"] = c.date(t)
        app.fields["training_notes"] = "培训收银员2名：签到、消费、退货、结算"
        for term in app.terminals:
            term.move(t, "active", rev, app)
        if app.fee_plan == "deposit":
            app.deposit = {"activated": t}
        if app.ticket is not None and app.ticket.status == "replacement":
            self.ticket_event(app.ticket, t, "closed", None, "更换新机已开通，旧机已注销")
            app.ticket.closed = t
        return t

    def _home_branch(self, merchant):
        city = self.merchant_by_id[merchant]["city"]
        options = self.branches_by_city.get(city) or self.branches
        return options[merchant % len(options)]["id"]

    # --- tickets ------------------------------------------------------------------------

    def workflow_step(self, machine, status, to, actor):
        """The workflow's own step from `status` to `to`, taken by `actor` (a user id, or None for
        the system's periodic jobs); BulkDataError when the table has no such step for that role."""
        from portal.core.workflow import SYSTEM

        transition = machine.transition(status, to)
        role = SYSTEM if actor is None else self.roles[actor]
        if transition is None or role not in transition.roles:
            raise BulkDataError(f"the plan takes {status} -> {to} as {role}, which the workflow does not allow")
        return transition

    def ticket_event(self, ticket, t, to, actor, note="", kind="ticket.status"):
        from repairs.workflow import MACHINE, TERMINAL_TARGET

        transition = self.workflow_step(MACHINE, ticket.status, to, actor)
        ticket.events.append((t, ticket.status, to, actor, note, kind))
        ticket.status = to
        if transition.effect:
            ticket.terminal.move(t, TERMINAL_TARGET[transition.effect], actor, "#")

    def run_ticket(self, slot, created):
        """One fault of the slot's terminal, from the report to wherever it is at `now`."""
        r, c = self.rng, self.clock
        term = slot["terminal"]
        merchant = slot["merchant"]
        users = self.merchant_users[merchant]
        owner = users[0].id
        fault = r.choices(list(FAULTS), FAULT_WEIGHTS)[0]
        priority = "high" if fault == "cannot_accept_payment" else "normal"
        roll = r.random()
        priority = "urgent" if roll < 0.03 else "low" if roll < 0.1 else priority
        source = r.choices(["portal", "phone", "api"], [60, 35, 5])[0]
        agent = r.choice(self.agents)
        if source == "phone":
            created = c.within(created, "agent")
        reporter = agent.id if source == "phone" else r.choice(users).id
        tk = Ticket(created=created, terminal=term, merchant=merchant, fault=fault, symptoms=r.choice(FAULTS[fault]),
                    priority=priority, source=source, reporter=reporter)
        tk.sla_due = c.sla_due(created, priority)
        tk.events.append((created, "", "reported", reporter, "", "ticket.status"))
        term.move(created, "faulty", reporter, "#")
        self.tickets.append(tk)
        path = r.choices([p for p, _ in TICKET_PATHS], [w for _, w in TICKET_PATHS])[0]
        t = created

        def at(seconds, kind):
            nonlocal t
            nt = c.after(t, seconds, kind)
            if nt > self.now:
                return False
            t = nt
            return True

        def ev(to, actor, note="", kind="ticket.status"):
            self.ticket_event(tk, t, to, actor, note, kind)

        def close(after_state_hours):
            # The merchant confirms, or the periodic job closes it after AUTO_CLOSE_DAYS.
            nonlocal t
            if r.random() < 0.6:
                if at(r.uniform(1, after_state_hours) * H, "merchant"):
                    ev("closed", owner)
                    tk.closed = t
            else:
                days = settings.TICKET_AUTO_CLOSE_DAYS
                nt = t + days * D + r.randint(60, 3600)
                if nt <= self.now:
                    t = nt
                    ev("closed", None, "", "ticket.auto_closed")
                    tk.closed = t

        if path == "cancel" and r.random() < 0.4:
            if at(r.uniform(600, 3 * H), "merchant"):
                ev("cancelled", owner, r.choice(NOTES["cancel"]))
                tk.closed = t
            return tk
        # The agent takes it (at once when the agent logged the call).
        if not at(60 if source == "phone" else r.expovariate(1 / (40 * 60)), "agent"):
            return tk
        tk.agent = agent
        ev("remote_diagnosis", agent.id)
        if path == "cancel":
            if r.random() < 0.5:
                if at(r.uniform(0.5, 8) * H, "agent"):
                    actor = r.choice([owner, agent.id])
                    ev("cancelled", actor, r.choice(NOTES["cancel"]))
                    tk.closed = t
                return tk
        if path == "remote":
            if not at(r.uniform(0.3, 6) * H, "agent"):
                return tk
            ev("resolved_remotely", agent.id, r.choice(NOTES["resolved_remotely"]))
            if r.random() < 0.08:
                if not at(r.uniform(2, 72) * H, "merchant"):
                    return tk
                ev("remote_diagnosis", owner, r.choice(NOTES["reopen"]))
                tk.sla_due = c.sla_due(t, priority)
                if not at(r.uniform(1, 8) * H, "agent"):
                    return tk
                ev("resolved_remotely", agent.id, r.choice(NOTES["resolved_remotely"]))
            close(48)
            return tk
        # To a branch.
        if not at(r.expovariate(1 / (3 * H)), "agent"):
            return tk
        branch = self.branch_by_id[term.branch]
        tk.branch = branch["id"]
        ev("awaiting_branch", agent.id, r.choice(NOTES["awaiting_branch"]))
        if path == "cancel":
            if at(r.uniform(1, 5) * D, "merchant"):
                ev("cancelled", owner, r.choice(NOTES["cancel"]))
                tk.closed = t
            return tk
        if not at(r.uniform(0.3, 3) * D, "branch"):
            return tk
        engineer = r.choice(self.engineers[branch["id"]])
        docs = ["account_opening_permit", "business_licence", "operator_id"]
        tk.rr = {"created": t, "engineer": engineer.id, "branch": branch["id"],
                 "documents": docs if r.random() < 0.8 else docs[1:], "diagnosis": "", "work_done": "", "parts": "",
                 "pickup_code": "", "picked_up": None}
        ev("at_branch", engineer.id)
        if not at(r.uniform(600, 2 * H), "branch"):
            return tk
        ev("diagnosing", engineer.id)
        unrepairable = path == "unrepairable"
        if unrepairable and r.random() < 0.5:
            if not at(r.uniform(1, 24) * H, "branch"):
                return tk
            return self._unrepairable(tk, t, engineer, term)
        if not at(r.uniform(1, 24) * H, "branch"):
            return tk
        tk.rr["diagnosis"] = r.choice(NOTES["diagnosis"])
        ev("repairing", engineer.id, tk.rr["diagnosis"])
        if unrepairable:
            if not at(r.uniform(2, 48) * H, "branch"):
                return tk
            return self._unrepairable(tk, t, engineer, term)
        tries = r.choices([0, 1, 2], [70, 22, 8])[0]
        for attempt in range(tries + 1):
            if not at(r.uniform(2, 36) * H if attempt == 0 else r.uniform(1, 6) * H, "branch"):
                return tk
            k = r.randrange(len(NOTES["work_done"]))
            tk.rr["work_done"], tk.rr["parts"] = NOTES["work_done"][k], NOTES["parts"][k]
            ev("network_testing", engineer.id, tk.rr["work_done"])
            if not at(r.uniform(20, 90) * 60, "branch"):
                return tk
            if attempt < tries:
                note = r.choice(NOTES["test_fail"])
                tk.tests.append((t, False, note, engineer.id))
                ev("repairing", engineer.id, note)
            else:
                note = r.choice(NOTES["test_pass"])
                tk.tests.append((t, True, note, engineer.id))
                tk.rr["pickup_code"] = f"{r.randrange(10**6):06d}"
                ev("ready_for_pickup", engineer.id, note)
        if not at(r.uniform(0.2, 4) * D, "branch"):
            return tk
        tk.rr["picked_up"] = t
        ev("picked_up", engineer.id)
        close(72)
        return tk

    def _unrepairable(self, tk, t, engineer, term):
        r, c = self.rng, self.clock
        self.ticket_event(tk, t, "unrepairable", engineer.id, r.choice(NOTES["unrepairable"]))
        created = c.after(t, r.uniform(0.3, 3) * D, "merchant")
        if created > self.now:
            return tk
        app = self.new_app(created, tk.merchant, "replacement", 1, ticket=tk)
        tk.app = app
        self.ticket_event(tk, created + 1, "replacement", None, "已提交更换新机申请")
        self.run_app(app, "activated")
        return tk

    # --- the whole world ----------------------------------------------------------------

    def build(self, base):
        r = self.rng
        self.base = base
        self.terminals, self.tickets, self.apps, self.deregistrations = [], [], [], []
        self.build_people(base)
        self.merchant_by_id = {m["id"]: m for m in self.merchants}
        self.branch_by_id = {b["id"]: b for b in self.branches}

        # Terminals in service: each merchant's come from activated "new" applications.
        weights = [r.lognormvariate(0, 1.0) for _ in self.merchants]
        total = sum(weights)
        per_merchant = [max(1, round(self.n["slots"] * w / total)) for w in weights]
        self.slots = []
        initial_apps = []
        for m, count in zip(self.merchants, per_merchant, strict=True):
            first = self.start - r.randint(30, 360) * D
            while count > 0:
                q = min(count, r.choices([1, 2, 3, 5, 10, 20], [40, 25, 15, 10, 6, 4])[0])
                count -= q
                if not initial_apps or initial_apps[-1][0] != m["id"]:
                    activated = first
                elif r.random() < 0.55:
                    activated = r.randint(first, self.start)
                else:
                    activated = r.randint(self.start, self.now - 20 * D)
                initial_apps.append((m["id"], q, activated))
        for merchant, q, activated in initial_apps:
            # Walk the application backwards from its activation so it ends there.
            created = activated - r.randint(15, 40) * D
            app = self.new_app(self.clock.within(created, "merchant"), merchant, "new", q)
            self.run_app(app, "activated")
            for term in app.terminals:
                self.slots.append({"merchant": merchant, "terminal": term, "free": term.activated or self.now,
                                   "weight": r.lognormvariate(0, 0.5)})
        self.log(f"planned {len(self.merchants)} merchants, {len(self.slots)} terminals in service")

        # Tickets: spread over the slots by time in service and fragility, one open at a time.
        target = self.n["tickets"]
        spans = [max(0, self.now - max(s["free"], self.start)) * s["weight"] for s in self.slots]
        total = sum(spans) or 1
        times = []
        for s, span in zip(self.slots, spans, strict=True):
            expected = target * span / total
            k = int(expected) + (1 if r.random() < expected - int(expected) else 0)
            lo = max(s["free"], self.start)
            if lo >= self.now - 2 * H:
                continue
            times.extend((r.randint(lo, self.now - 3600), id(s), s) for _ in range(k))
        r.shuffle(times)
        times = times[:target]
        while len(times) < target:
            s = r.choice(self.slots)
            if s["free"] >= self.now - 2 * H:
                continue
            times.append((r.randint(max(s["free"], self.start), self.now - 3600), id(s), s))
        times.sort(key=lambda x: x[0])
        made = 0
        for wanted, _key, s in times:
            made += self._place(s, wanted)
        # A slot that was busy (or waiting for its replacement) passes its fault to another one.
        for _ in range(1000 * target):
            if made >= target:
                break
            s = r.choice(self.slots)
            if s["free"] < self.now - 2 * D:
                made += self._place(s, r.randint(s["free"], self.now - 3600))
        self.log(f"planned {made} tickets ({sum(len(t.events) for t in self.tickets)} events)")

        # The other applications: rejected, withdrawn, and the ones in progress now.
        others = max(0, self.n["applications"] - len(self.apps))
        outcomes = [o for o, _ in NEW_APP_OUTCOMES]
        weights_o = [w for _, w in NEW_APP_OUTCOMES]
        for _ in range(others):
            outcome = r.choices(outcomes, weights_o)[0]
            m = r.choice(self.merchants)["id"]
            if outcome in ("rejected", "withdrawn"):
                created = r.randint(self.start, self.now - 10 * D)
            else:
                created = self.now - r.randint(1 * H, 60 * D)
            app = self.new_app(self.clock.within(created, "merchant"), m, "new", r.choice([1, 1, 1, 2, 3]))
            self.run_app(app, outcome)

        # Stock: whatever the terminal total leaves, spread over the channels.
        for _ in range(max(0, self.n["terminals"] - len(self.terminals))):
            self.new_terminal(r.randint(self.start, self.now - D), r.choice(self.channels)["id"])
        self.log(f"planned {len(self.apps)} applications, {len(self.terminals)} terminals")

    def _place(self, slot, wanted):
        """Run one ticket on `slot` no earlier than `wanted`; False if the slot is busy until now."""
        c = self.clock
        created = c.within(max(wanted, slot["free"] + self.rng.randint(3600, 5 * D)), "merchant")
        if created >= self.now - 600:
            return False
        tk = self.run_ticket(slot, created)
        if tk.app is not None and tk.app.status == "activated":
            # The replacement takes the slot over once it is active.
            slot["terminal"] = tk.app.terminals[0]
            slot["free"] = tk.app.terminals[0].activated
        elif tk.closed is None or tk.status == "unrepairable":
            slot["free"] = self.now  # open at `now`: no other ticket on this terminal
        else:
            slot["free"] = tk.closed
        return True


def _base31(n, width):
    from portal.accounts.validators import USCC_CHARSET

    out = []
    for _ in range(width):
        n, d = divmod(n, 31)
        out.append(USCC_CHARSET[d])
    return "".join(reversed(out))


# --- loading -------------------------------------------------------------------------------


def _max_id(model):
    with connection.cursor() as cur:
        cur.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{model._meta.db_table}"')
        return cur.fetchone()[0]


class BulkDataError(Exception):
    """The bulk data cannot be loaded here (not PostgreSQL, already loaded, not allowed)."""


def run(*, scale=1.0, seed=2026, log=print):
    """What `bench/bulk_data.py` does: check, load, and print the rows per table."""
    if not settings.DEMO_DATA_ALLOWED:
        raise BulkDataError("Bulk data is for benchmarks only (set DEMO_DATA_ALLOWED=1 to allow).")
    if not 0 < scale <= 5:
        raise BulkDataError("--scale must be between 0 and 5.")
    counts = load(scale=scale, seed=seed, log=log)
    for table, rows in sorted(counts.items()):
        log(f"  {table:40} {rows:>10,}")
    log(f"Bulk data loaded at scale {scale} (full size: {FULL['tickets']:,} tickets).")
    return counts


def load(*, scale=1.0, seed=2026, now=None, log=print):
    """Plan and load the bulk data; returns {table: rows}. PostgreSQL only."""
    from applications.models import (
        Application,
        ApplicationDocument,
        ApplicationEvent,
        ApplicationTerminal,
        DepositAccount,
        MonthlyVolume,
    )
    from notifications.kinds import KINDS
    from notifications.models import Notification, NotificationPreference
    from portal.accounts.models import Branch, Channel, Merchant, User
    from portal.core.models import DailyCounter
    from repairs.models import FaultTicket, NetworkTest, RepairRequest, TicketEvent
    from terminals.models import Deregistration, TerminalEvent
    from terminals.models import Terminal as TerminalModel

    if connection.vendor != "postgresql":
        raise BulkDataError("bulk_data loads with PostgreSQL's COPY: set DATABASE_URL to a PostgreSQL database.")
    if Branch.objects.filter(code="BX001").exists():
        raise BulkDataError("This database already has bulk data (branch BX001): use a fresh database.")

    started = time.monotonic()
    plan = Plan(scale=scale, seed=seed, now=now, log=log)
    base = {
        "branch": _max_id(Branch), "channel": _max_id(Channel), "user": _max_id(User),
        "merchant": _max_id(Merchant), "terminal": _max_id(TerminalModel),
        "uscc": 10**6 + _max_id(Merchant), "app_contract": _max_id(Application),
    }
    plan.build(base)
    log(f"planned in {time.monotonic() - started:.1f} s")
    # Everything read from the database is read now: once COPY starts, the connection is its.
    base.update(
        ticket=_max_id(FaultTicket), ticket_event=_max_id(TicketEvent), application=_max_id(Application),
        application_event=_max_id(ApplicationEvent), deposit=_max_id(DepositAccount),
        so_counters=dict(DailyCounter.objects.filter(series="SO").values_list("day", "last_number")),
        ap_counters=dict(DailyCounter.objects.filter(series="AP").values_list("day", "last_number")),
    )

    now_text = ts(plan.now)
    password = make_password(BULK_PASSWORD)
    with transaction.atomic():
        # The counters of the days the bulk data numbers are rewritten below (after their rows).
        DailyCounter.objects.filter(series="SO", day__in={Clock.date(tk.created) for tk in plan.tickets}).delete()
        DailyCounter.objects.filter(series="AP", day__in={Clock.date(app.created) for app in plan.apps}).delete()
        loader = Loader(connection, now_text, log=log)
        counters = loader.table(DailyCounter, ["series", "day", "last_number"])
        _load_people(loader, plan, password, Branch, Channel, Merchant, User, NotificationPreference, KINDS)
        _load_terminals(loader, plan, TerminalModel, TerminalEvent, Deregistration)
        notes = loader.table(Notification, [
            "kind", "event_key", "recipient", "channel", "context", "url", "status", "attempts", "created_at",
            "next_attempt_at", "sent_at", "read_at",
        ])
        notifier = Notifier(plan, notes)
        _load_tickets(loader, plan, notifier, FaultTicket, TicketEvent, RepairRequest, NetworkTest, counters)
        _load_applications(loader, plan, notifier, Application, ApplicationEvent, ApplicationDocument,
                           ApplicationTerminal, DepositAccount, MonthlyVolume, counters)
        log(f"rows generated in {time.monotonic() - started:.1f} s; loading")
        loader.finish()
        models = [Branch, Channel, Merchant, User, TerminalModel, TerminalEvent, Deregistration, FaultTicket,
                  TicketEvent, RepairRequest, NetworkTest, DailyCounter, Application, ApplicationEvent,
                  ApplicationDocument, ApplicationTerminal, DepositAccount, MonthlyVolume,
                  Notification, NotificationPreference]
        with connection.cursor() as cur:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cur.execute(sql)
    counts = loader.counts()
    log(f"committed in {time.monotonic() - started:.1f} s; vacuuming and analysing")
    # VACUUM sets the visibility map as autovacuum would in production (index-only scans and
    # counts need it); it cannot run inside a transaction, so not when the caller holds one.
    with connection.cursor() as cur:
        if connection.in_atomic_block:
            cur.execute("ANALYZE")
        else:
            for table in sorted(counts, key=counts.get, reverse=True):
                cur.execute(f'VACUUM (ANALYZE) "{table}"')
            cur.execute("ANALYZE")
    log(f"done in {time.monotonic() - started:.1f} s")
    return counts


def _load_people(loader, plan, password, Branch, Channel, Merchant, User, NotificationPreference, KINDS):
    t = loader.table(Branch, ["id", "code", "name", "city", "address", "phone", "hours", "is_active"])
    for b in plan.branches:
        t.add(str(b["id"]), b["code"], b["name"], b["city"], b["address"], b["phone"], b["hours"], "t")
    t = loader.table(Channel, ["id", "code", "name", "kind", "licence_number", "phone", "is_active"])
    for ch in plan.channels:
        t.add(str(ch["id"]), ch["code"], ch["name"], ch["kind"], ch["licence"], "95500", "t")
    t = loader.table(Merchant, ["id", "name", "credit_code", "contact_name", "contact_phone", "address", "city",
                                "opens_at", "closes_at", "created_at"])
    for m in plan.merchants:
        t.add(str(m["id"]), m["name"], m["credit_code"], m["contact"], m["phone"], m["address"], m["city"],
              m["opens"], m["closes"], ts(plan.start - 400 * D))
    t = loader.table(User, ["id", "password", "is_superuser", "username", "first_name", "last_name", "email",
                            "is_staff", "is_active", "date_joined", "role", "phone", "language", "merchant",
                            "branch", "is_merchant_owner"])
    joined = ts(plan.start - 400 * D)
    for u in plan.users:
        email = f"{u.username}@example.com" if (u.email or u.role != "merchant") else ""
        phone = f"139{u.id % 10**8:08d}" if (u.phone or u.role != "merchant") else ""
        lang = "en" if u.id % 10 == 0 else "zh-hans"
        t.add(str(u.id), password, "f", u.username, u.given, u.family, email, "f", "t", joined, u.role, phone,
              lang, str(u.merchant) if u.merchant else NULL, str(u.branch) if u.branch else NULL,
              "t" if getattr(u, "owner", False) else "f")
    # Staff chose in-app only for every kind (the merchants keep the default channels).
    t = loader.table(NotificationPreference, ["user", "channels", "updated_at"])
    staff_channels = jtext({kind: ["in_app"] for kind in KINDS})
    for u in plan.users:
        if u.role != "merchant":
            t.add(str(u.id), staff_channels, joined)


def _load_terminals(loader, plan, TerminalModel, TerminalEvent, Deregistration):
    t = loader.table(TerminalModel, ["id", "serial_number", "tag_number", "model", "manufacturer", "channel",
                                     "merchant", "home_branch", "tid", "mid", "status", "activated_on",
                                     "retired_on", "created_at", "updated_at"])
    c = plan.clock
    for term in plan.terminals:
        t.add(str(term.id), term.serial, term.tag, term.model, term.maker, str(term.channel),
              str(term.merchant) if term.merchant else NULL, str(term.branch) if term.branch else NULL,
              term.tid, term.mid, term.status, c.date(term.activated).isoformat() if term.activated else NULL,
              c.date(term.retired).isoformat() if term.retired else NULL, ts(term.created), ts(term.updated))
    plan.terminal_events = loader.table(TerminalEvent, ["terminal", "kind", "from_status", "to_status",
                                                        "merchant", "actor", "note", "created_at"])
    t = loader.table(Deregistration, ["terminal", "method", "certificate_number", "witness", "date", "merchant",
                                      "recorded_by", "created_at"])
    for n, (term, method, when, reviewer, merchant) in enumerate(plan.deregistrations, 1):
        witness = plan.user_by_id[reviewer].name
        t.add(str(term.id), method, f"ZX{c.date(when):%Y%m%d}{n:05d}", witness, c.date(when).isoformat(),
              str(merchant), str(reviewer), ts(when))


class Notifier:
    """The rows notify() would write: one per recipient and channel, delivered (history)."""

    def __init__(self, plan, table):
        self.plan = plan
        self.table = table
        self.now = plan.now
        self.read_before = plan.now - 3 * D

    def send(self, kind, key, recipients, context, url, at):
        """`context` is a dict, or its COPY text already (one event, several recipient groups)."""
        ctx = context if isinstance(context, str) else jtext(context)
        created = ts(at)
        sent = ts(at + 5)
        read = ts(at + 3600)
        old = at < self.read_before
        rnd = self.plan.rng.random
        head = f"{kind}\t{key}\t"
        lines = []
        for person in recipients:
            for channel in person.channels():
                if channel == "in_app":
                    seen = read if old and rnd() < 0.9 else NULL
                    lines.append(f"{head}{person.id}\tin_app\t{ctx}\t{url}\tsent\t0\t{created}\t\\N\t{created}\t{seen}")
                else:
                    lines.append(f"{head}{person.id}\t{channel}\t{ctx}\t{url}\tsent\t1\t{created}\t{created}\t{sent}\t\\N")
        self.table.add_lines(lines)


def _numbers(prefix, items, counters):
    """Number `items` (sorted by creation) per local day, after what the counters already hold."""
    per_day = {}
    clock = Clock
    for item in items:
        day = clock.date(item.created)
        n = per_day.get(day, counters.get(day, 0)) + 1
        per_day[day] = n
        item.number = f"{prefix}{day:%Y%m%d}-{n:04d}"
    return per_day


def _replace_counters(counters, series, per_day):
    for day, n in sorted(per_day.items()):
        counters.add(series, day.isoformat(), str(n))


def _url(name, number, fallback):
    try:
        from django.urls import reverse

        return reverse(name, args=[number])
    except Exception:  # noqa: BLE001 - the pages may not be there yet
        return fallback


def _load_tickets(loader, plan, notifier, FaultTicket, TicketEvent, RepairRequest, NetworkTest, counters):
    tickets = sorted(plan.tickets, key=lambda tk: tk.created)
    per_day = _numbers("SO", tickets, plan.base["so_counters"])
    _replace_counters(counters, "SO", per_day)
    base_ticket = plan.base["ticket"]
    base_event = plan.base["ticket_event"]
    for i, tk in enumerate(tickets, 1):
        tk.id = base_ticket + i
    url_pattern = _url("tickets:detail", "SO00000000-0000", "/tickets/SO00000000-0000/")

    tt = loader.table(FaultTicket, ["id", "service_order_no", "terminal", "merchant", "status", "fault_type",
                                    "symptoms", "contact_window", "priority", "source", "reported_by", "agent",
                                    "agent_name", "branch", "sla_due_at", "version", "status_changed_at",
                                    "created_at", "updated_at", "closed_at"])
    et = loader.table(TicketEvent, ["id", "ticket", "from_status", "to_status", "actor", "note", "is_public",
                                    "created_at"])
    rt = loader.table(RepairRequest, ["ticket", "branch", "form_number", "checked_tag_number",
                                      "checked_serial_number", "documents", "engineer", "diagnosis", "work_done",
                                      "parts", "pickup_code", "pickup_attempts", "picked_up_at", "created_at"])
    nt = loader.table(NetworkTest, ["ticket", "passed", "details", "engineer", "created_at"])
    te = plan.terminal_events
    users = plan.user_by_id
    event_id = base_event
    branch_by_id = plan.branch_by_id
    for tk in tickets:
        term = tk.terminal
        last = tk.events[-1][0]
        agent = tk.agent
        tt.add_text(
            f"{tk.id}\t{tk.number}\t{term.id}\t{tk.merchant}\t{tk.status}\t{tk.fault}\t{tk.symptoms}\t\t"
            f"{tk.priority}\t{tk.source}\t{tk.reporter}\t{agent.id if agent else NULL}\t"
            f"{agent.name if agent else ''}\t{tk.branch or NULL}\t{ts(tk.sla_due)}\t{len(tk.events)}\t"
            f"{ts(last)}\t{ts(tk.created)}\t{ts(last)}\t{ts(tk.closed) if tk.closed else NULL}"
        )
        url = url_pattern.replace("SO00000000-0000", tk.number)
        merchant_users = plan.merchant_users[tk.merchant]
        merchant_name = plan.merchant_by_id[tk.merchant]["name"]
        branch = branch_by_id.get(tk.branch) if tk.branch else None
        rr = tk.rr
        agent_now = None
        for t, frm, to, actor, note, kind in tk.events:
            event_id += 1
            et.add_text(f"{event_id}\t{tk.id}\t{frm}\t{to}\t{actor or NULL}\t{esc(note)}\tt\t{ts(t)}")
            if to == "remote_diagnosis" and frm == "reported":
                agent_now = agent
            # repairs.workflow._notify: the merchant's users, then the agent and the engineer.
            context = {"service_order_no": tk.number, "terminal": term.serial, "tag_number": term.tag,
                       "fault_type": tk.fault, "from_status": frm, "to_status": to, "status": to,
                       "agent_name": agent.name if agent_now else "", "merchant": merchant_name, "note": note}
            if branch is not None and to in ("awaiting_branch", "ready_for_pickup"):
                context.update(branch=branch["name"], branch_code=branch["code"], branch_address=branch["address"],
                               branch_phone=branch["phone"], branch_hours=branch["hours"])
            key = f"ticket-event:{event_id}"
            context = jtext(context)
            notifier.send(kind, key, [u for u in merchant_users if u.id != actor], context, url, t)
            staff = []
            if agent_now is not None:
                staff.append(agent_now)
            if rr is not None and t >= rr["created"]:
                staff.append(users[rr["engineer"]])
            elif to == "awaiting_branch" and tk.branch:
                staff.extend(plan.engineers[tk.branch])
            notifier.send(kind, key, [u for u in staff if u.id != actor], context, url, t)
        if rr is not None:
            rt.add(str(tk.id), str(rr["branch"]), f"RR-{tk.number}", term.tag, term.serial, rr["documents"],
                   str(rr["engineer"]), rr["diagnosis"], rr["work_done"], rr["parts"], rr["pickup_code"], "0",
                   ts(rr["picked_up"]) if rr["picked_up"] else NULL, ts(rr["created"]))
        for t, passed, details, engineer in tk.tests:
            nt.add_text(f"{tk.id}\t{'t' if passed else 'f'}\t{esc(details)}\t{engineer}\t{ts(t)}")

    # The terminals' own timelines (their notes name the ticket, as terminals.services does).
    numbers = {}
    for tk in tickets:
        numbers.setdefault(tk.terminal.id, []).append((tk.created, tk.number))
    for term in plan.terminals:
        own = numbers.get(term.id, [])
        k = 0
        for t, kind, frm, to, actor, note, merchant in term.moves:
            if note == "#":
                while k + 1 < len(own) and own[k + 1][0] <= t:
                    k += 1
                note = own[k][1] if own else ""
            elif isinstance(note, App):
                note = note.number
            te.add_text(f"{term.id}\t{kind}\t{frm}\t{to}\t{merchant or NULL}\t{actor or NULL}\t{esc(note)}\t{ts(t)}")


def _load_applications(loader, plan, notifier, Application, ApplicationEvent, ApplicationDocument,
                       ApplicationTerminal, DepositAccount, MonthlyVolume, counters):
    from django.core.files.storage import default_storage

    from applications.models import add_months, fee_terms

    r = plan.rng
    c = plan.clock
    terms = fee_terms()
    apps = sorted(plan.apps, key=lambda a: a.created)
    per_day = _numbers("AP", apps, plan.base["ap_counters"])
    _replace_counters(counters, "AP", per_day)
    base = plan.base["application"]
    base_event = plan.base["application_event"]
    for i, app in enumerate(apps, 1):
        app.id = base + i
    # One small shared file stands for every bulk document (the rows are what the pages read).
    sample = "bulk/sample-document.pdf"
    if not default_storage.exists(sample):
        from django.core.files.base import ContentFile

        default_storage.save(sample, ContentFile(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))

    at = loader.table(Application, [
        "id", "number", "merchant", "kind", "ticket", "channel", "quantity", "fee_plan", "fee_amount",
        "deposit_target", "deposit_months", "status", "created_by", "reviewer", "decision_reason", "interview_date",
        "interview_notes", "inspection_date", "inspection_notes", "contract_number", "contract_signed_on",
        "training_date", "training_notes", "activated_on", "submitted_at", "status_changed_at", "created_at",
        "updated_at",
    ])
    ev = loader.table(ApplicationEvent, ["id", "application", "kind", "from_status", "to_status", "actor", "note",
                                         "is_public", "created_at", "action", "subject"])
    dt = loader.table(ApplicationDocument, ["application", "kind", "file", "content_type", "original_name", "size",
                                            "uploaded_by", "uploaded_at", "verdict", "verdict_by", "verdict_at"])
    atm = loader.table(ApplicationTerminal, ["application", "terminal", "assigned_by", "assigned_at"])
    dep = loader.table(DepositAccount, ["id", "application", "amount", "target", "started_on", "deadline",
                                        "eligible_on", "refunded", "refunded_at", "created_at"])
    vol = loader.table(MonthlyVolume, ["terminal", "month", "amount", "recorded_by", "updated_at"])
    event_id = base_event
    deposit_id = plan.base["deposit"]
    app_url = _url("applications:detail", "AP00000000-0000", "/applications/AP00000000-0000/")
    today = c.date(plan.now)
    for app in apps:
        f = app.fields
        amount, target, months = "0", None, None
        if app.fee_plan == "purchase":
            amount = terms["purchase_price"]
        elif app.fee_plan == "deposit":
            amount, target, months = terms["deposit_amount"], terms["deposit_target"], terms["deposit_months"]
        reason = ""
        for e in reversed(app.events):
            if e[3] in ("rejected", "needs_info"):
                reason = e[5]
                break
        at.add(
            str(app.id), app.number, str(app.merchant), app.kind, str(app.ticket.id) if app.ticket else NULL,
            str(app.channel), str(app.quantity), app.fee_plan, amount, target, months, app.status,
            str(app.creator), str(app.reviewer.id) if app.reviewer else NULL, reason,
            f.get("interview_date"), f.get("interview_notes", ""), f.get("inspection_date"),
            f.get("inspection_notes", ""), f.get("contract_number", ""), f.get("contract_signed_on"),
            f.get("training_date"), f.get("training_notes", ""), f.get("activated_on"),
            ts(app.submitted) if app.submitted else NULL, ts(app.changed), ts(app.created), ts(app.changed),
        )
        merchant = plan.merchant_by_id[app.merchant]
        url = app_url.replace("AP00000000-0000", app.number)
        users = plan.merchant_users[app.merchant]
        reviewer_known = False
        for t, kind, frm, to, actor, note, public, action, subject in app.events:
            event_id += 1
            reviewer_known = reviewer_known or (app.reviewer is not None and actor == app.reviewer.id)
            ev.add_text(f"{event_id}\t{app.id}\t{kind}\t{frm}\t{to}\t{actor or NULL}\t{esc(note)}\t"
                        f"{'t' if public else 'f'}\t{ts(t)}\t{action}\t{subject}")
            if kind != "status":
                continue
            # applications.workflow._notify_status: the merchant's users; the reviewer when
            # someone else made the change.
            recipients = list(users)
            if reviewer_known and actor != app.reviewer.id:
                recipients.append(app.reviewer)
            notifier.send("application.status", f"application-event:{event_id}", recipients, {
                "application_number": app.number, "kind": app.kind, "from_status": frm, "to_status": to,
                "note": note, "merchant_name": merchant["name"], "channel": app.channel,
            }, url, t)
        for kind, uploaded, verdict, verdict_at, verdict_by in app.docs:
            dt.add(str(app.id), kind, "bulk/sample-document.pdf", "application/pdf", f"{kind}.pdf", "44",
                   str(app.creator), ts(uploaded), verdict, str(verdict_by) if verdict_by else NULL,
                   ts(verdict_at) if verdict_at else NULL)
        for term in app.terminals:
            atm.add(str(app.id), str(term.id), str(app.reviewer.id), ts(app.assigned_at))
        if app.deposit is not None and app.status == "activated":
            deposit_id += 1
            started = f["activated_on"]
            deadline = add_months(started, months)
            monthly = float(target) / months / len(app.terminals) * r.uniform(0.6, 1.6)
            total = 0.0
            eligible = None
            month = started.replace(day=1)
            while month <= today and month < deadline:
                for term in app.terminals:
                    amount_m = round(monthly * r.uniform(0.7, 1.3), 2)
                    total += amount_m
                    vol.add(str(term.id), month.isoformat(), f"{amount_m:.2f}", str(app.reviewer.id),
                            ts(c.day(plan.now) * D))
                if eligible is None and total >= float(target):
                    eligible = min(add_months(month, 1), today)
                month = add_months(month, 1)
            refunded = eligible is not None and r.random() < 0.7 and eligible + timedelta(days=20) < today
            refunded_at = None
            if refunded:
                refunded_at = (eligible - date(1970, 1, 1)).days * D - TZ + 10 * H + r.randint(5, 20) * D
                event_id += 1
                ev.add_text(f"{event_id}\t{app.id}\trecord\t\t\t{app.reviewer.id}\t\tt\t{ts(refunded_at)}\trefund\t")
            dep.add(str(deposit_id), str(app.id), amount, target, started.isoformat(), deadline.isoformat(),
                    eligible.isoformat() if eligible else NULL, "t" if refunded else "f",
                    ts(refunded_at) if refunded else NULL, ts(app.changed))
            if eligible is not None:
                notifier.send("deposit.eligible", f"deposit-eligible:{deposit_id}", users, {
                    "application_number": app.number, "amount": str(amount), "target": str(target),
                    "total": f"{total:.2f}",
                }, url, int(math.floor((eligible - date(1970, 1, 1)).days * D - TZ + 10 * H)))
