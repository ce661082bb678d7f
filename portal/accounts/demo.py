"""Demo organisations and users (DESIGN.md, "Demo data"). Idempotent: keyed on codes and names."""

from datetime import time

from portal.accounts.models import Branch, Channel, Merchant, Role, User
from portal.accounts.validators import uscc_check_character

DEMO_PASSWORD = "demo-pass-2026"

BRANCHES = [
    ("BR001", "浦东陆家嘴支行", "上海", "上海市浦东新区陆家嘴环路1000号", "021-58880001", "周一至周五 9:00–17:00，周六 9:00–12:00"),
    ("BR002", "徐汇漕河泾支行", "上海", "上海市徐汇区宜山路700号", "021-64850002", "周一至周五 9:00–17:00"),
    ("BR003", "杭州西湖支行", "杭州", "浙江省杭州市西湖区文三路90号", "0571-88880003", "周一至周六 9:00–17:30"),
]

CHANNELS = [
    ("BANK", "本行收单", Channel.Kind.BANK, "", "95500"),
    ("YINXIN", "银信支付有限公司", Channel.Kind.PAYMENT_COMPANY, "Z2026031000001", "400-820-0000"),
]


def uscc(first17):
    return first17 + uscc_check_character(first17)


MERCHANTS = [
    # username, merchant name, credit code prefix, contact, phone, city, address, hours
    ("merchant", "鑫源便利店", "91310115MA1K4XY8", "王芳", "13800138001", "上海", "上海市浦东新区张杨路500号", (time(8), time(22))),
    ("merchant2", "华美餐厅", "91330106MA2H7QW3", "李强", "13900139002", "杭州", "浙江省杭州市西湖区天目山路200号", (time(10), time(21, 30))),
]

STAFF = [
    ("agent", Role.AGENT, "张", "客服", "13700000001", None),
    ("engineer", Role.ENGINEER, "陈", "工程师", "13700000002", "BR001"),
    ("reviewer", Role.REVIEWER, "刘", "审核", "13700000003", None),
]


def _user(username, **fields):
    user, created = User.objects.get_or_create(username=username, defaults=fields)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def seed(ctx):
    for code, name, city, address, phone, hours in BRANCHES:
        ctx.branches[code], _ = Branch.objects.get_or_create(
            code=code, defaults={"name": name, "city": city, "address": address, "phone": phone, "hours": hours}
        )
    for code, name, kind, licence, phone in CHANNELS:
        ctx.channels[code], _ = Channel.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "licence_number": licence, "phone": phone}
        )
    for i, (username, name, prefix, contact, phone, city, address, (opens, closes)) in enumerate(MERCHANTS, 1):
        # Merchant prefixes are 16 characters; a running digit completes the 17 before the check.
        merchant, _ = Merchant.objects.get_or_create(
            credit_code=uscc(prefix + str(i)),
            defaults={
                "name": name, "contact_name": contact, "contact_phone": phone, "city": city,
                "address": address, "opens_at": opens, "closes_at": closes,
            },
        )
        ctx.merchants[username] = merchant
        ctx.users[username] = _user(
            username, role=Role.MERCHANT, merchant=merchant, is_merchant_owner=True,
            first_name=contact[1:], last_name=contact[0], phone=phone,
            email=f"{username}@demo.pos-portal.local",
        )
    for username, role, last, first, phone, branch in STAFF:
        ctx.users[username] = _user(
            username, role=role, last_name=last, first_name=first, phone=phone,
            branch=ctx.branches.get(branch), email=f"{username}@demo.pos-portal.local",
        )
    admin = _user(
        "admin", role=Role.ADMIN, is_staff=True, is_superuser=True, last_name="系统",
        first_name="管理员", email="admin@demo.pos-portal.local",
    )
    ctx.users["admin"] = admin
