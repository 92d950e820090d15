"""The demo organisation: a province › city › county › township tree with an account per role.

Demo passwords and TOTP secrets are fixed so that ``portal demo --json`` can hand them to
automation (and to people trying the portal); never seed a production database with them.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.accounts import services as accounts
from portal.accounts.tables import Unit, User
from portal.auth.tables import RecoveryCode
from portal.auth.totp import hash_recovery_code
from portal.db import write_transaction

DEMO_PASSWORD = "demo-password-2026"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str | None
    totp_secret: str | None
    unit: str = "huanghe"


UNITS = [
    # code, name, level, parent code, mail domain, document prefix
    ("sd", "山东省人民政府", "province", None, "sd.gov.example", "鲁政"),
    ("jinan", "济南市人民政府", "city", "sd", "jinan.gov.example", "济政"),
    ("huanghe", "黄河县人民政府", "county", "jinan", "huanghe.gov.example", "黄河办"),
    ("dongzhen", "东镇人民政府", "township", "huanghe", "dongzhen.gov.example", "东镇"),
]
DEPARTMENTS = [("huanghe", "办公室", True), ("huanghe", "农业农村局", False), ("huanghe", "大数据局", False),
               ("jinan", "大数据局", False), ("dongzhen", "党政办", True),
               ("jinan", "市场监督管理局", False), ("sd", "大数据局", False)]

# Secrets are fixed base32 strings so automation can compute codes; "enrol" has none and is walked
# through enrolment on first login.
ACCOUNTS = [
    DemoAccount("admin", "系统管理员", ("admin", "staff"), "办公室", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXA"),
    DemoAccount("zhangwei", "张伟", ("staff",), "农业农村局", "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLA"),
    DemoAccount("lina", "李娜", ("department_head", "staff"), "农业农村局", "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LA"),
    DemoAccount("wangfang", "王芳", ("office_head", "staff"), "办公室", "NBSWY3DPO5XXE3DENBSWY3DPO5XXE3DA"),
    DemoAccount("chenjing", "陈静", ("secretary", "staff"), "办公室", "ONSWG4TFORSWG4TFONSWG4TFORSWG4TA"),
    DemoAccount("liuyang", "刘洋", ("leader", "staff"), "办公室", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJA"),
    DemoAccount("zhaolei", "赵磊", ("director", "leader", "staff"), "办公室", "MZXW6YTBOIAAAAAAMZXW6YTBOIAAAAAA"),
    DemoAccount("sunli", "孙丽", ("print_room", "staff"), "办公室", "OBQXG43XN5ZGIZDFOBQXG43XN5ZGIZDA"),
    DemoAccount("zhoujie", "周杰", ("data_officer", "staff"), "大数据局", "MJQXGZJQGIZTINJWMJQXGZJQGIZTINJA"),
    DemoAccount("wuhong", "吴红", ("publisher", "staff"), "办公室", "NFXHG5DBNRWGC5DJNFXHG5DBNRWGC5DA"),
    DemoAccount("enrol", "新用户", ("staff",), "农业农村局", None),
    # Staff of the township and the county's other offices (also the accounts later end-to-end tests log in with).
    DemoAccount("heqiang", "何强", ("staff",), "党政办", "YWL42NGVGHVE3FX37373IRJVJA7M7QYL", unit="dongzhen"),
    DemoAccount("guoli", "郭丽", ("staff",), "党政办", "QHMPTWXQ7EIZFFNFZKFRVBYEZH6KCJRN", unit="dongzhen"),
    DemoAccount("majun", "马军", ("staff",), "党政办", "YZY7FEVNLQUFWVW7KDYDUYCPLMK35KB2", unit="dongzhen"),
    DemoAccount("linfeng", "林峰", ("staff",), "农业农村局", "CGFPHMEXLUSCDWGWTRSEGVNWYCDLXNCG"),
    DemoAccount("xuyan", "徐燕", ("staff",), "农业农村局", "Y2DWYHAELLLZDVUNMYTEJVRNA2AWV6QX"),
    DemoAccount("gaoming", "高明", ("staff",), "大数据局", "4USKXF5GGYIFM4PVDOXAF7EOSL57ZA4C"),
    DemoAccount("luohui", "罗慧", ("staff",), "大数据局", "JGN3HCLG3CPDBPA7VJCWKH7SSSX6ZEO7"),
    DemoAccount("songtao", "宋涛", ("staff",), "办公室", "YN4TLIKDMBMMZIICM3CG3NFZOMDYMGQI"),
    DemoAccount("tangxue", "唐雪", ("staff",), "办公室", "TDLP6O327W2KVRKLZ7AHGE5H7IJD6WIT"),
    DemoAccount("hanbing", "韩冰", ("staff",), "办公室", "TBB5BB7HUT6GVHFJTYPQ2S4JY67QQYIB"),
    # The data catalog (CAT-1, CAT-2): a department's catalog editors, and the officers of the
    # big-data bureau of each level who review the catalogs filed with it.
    DemoAccount("fengyu", "冯雨", ("catalog_editor", "staff"), "农业农村局", "BJJBKJ4U625G45CUJ7ASCRHRGLLNM7VF"),
    DemoAccount("dengli", "邓丽", ("catalog_reviewer", "staff"), "大数据局", "O6JDK66DTFXJBIR5X26L3N7UH2OVOA7L"),
    DemoAccount("pengbo", "彭博", ("catalog_editor", "staff"), "市场监督管理局", "WYZGVDOHNI57XHMJCEK52PTVVWXD6WEI", unit="jinan"),
    DemoAccount("caijun", "蔡军", ("catalog_reviewer", "staff"), "大数据局", "FKAHQRNQTNMYPLZXAZIQW2FWD2C737QL", unit="jinan"),
    DemoAccount("yuanfang", "袁芳", ("catalog_reviewer", "staff"), "大数据局", "DN6XUF26PXTCIRMOTB4KE74WGZ2WUPTV", unit="sd"),
]


async def seed_demo() -> bool:
    """Create the demo organisation unless the database already has units. True if seeded."""
    if await Unit.count() > 0:
        return False
    unit_ids: dict[str, int] = {}
    for code, name, level, parent, domain, prefix in UNITS:
        unit_ids[code] = await accounts.create_unit(
            None, accounts.UnitForm(name, code, level, unit_ids.get(parent), domain, prefix)
        )
    dept_ids: dict[tuple[str, str], int] = {}
    for unit_code, name, is_office in DEPARTMENTS:
        dept_ids[(unit_code, name)] = await accounts.create_department(None, unit_ids[unit_code], name, is_office)
    for account in ACCOUNTS:
        unit_id = unit_ids[account.unit]
        dept_id = dept_ids.get((account.unit, account.department)) if account.department else None
        domain = next(u[4] for u in UNITS if u[0] == account.unit)
        user_id = await accounts.create_user(
            None,
            accounts.UserForm(account.username, account.display_name, f"{account.username}@{domain}", unit_id, dept_id, DEMO_PASSWORD),
            roles=list(account.roles),
        )
        if account.totp_secret:
            async with write_transaction():
                await User.update({User.totp_secret: account.totp_secret}).where(User.id == user_id)
                await RecoveryCode.insert(*[RecoveryCode(user=user_id, code_hash=hash_recovery_code(code)) for code in demo_recovery_codes(account.username)])
    return True


def demo_recovery_codes(username: str) -> list[str]:
    return [f"{username[:4]:x<4}-demo-code-{n:04d}" for n in range(10)]


def demo_accounts_json() -> list[dict]:
    return [
        {
            "username": a.username,
            "password": DEMO_PASSWORD,
            "display_name": a.display_name,
            "totp_secret": a.totp_secret,
            "recovery_codes": demo_recovery_codes(a.username) if a.totp_secret else [],
            "roles": list(a.roles),
            "unit": a.unit,
            "department": a.department,
            "email": f"{a.username}@{next(u[4] for u in UNITS if u[0] == a.unit)}",
        }
        for a in ACCOUNTS
    ]
