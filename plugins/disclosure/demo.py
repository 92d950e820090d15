"""Demo data (``portal serve --demo``): every demo unit's catalog with the standard categories
and a few published items in each, so the public pages, search and feeds have something to show."""

from __future__ import annotations

from datetime import timedelta

from plugins.disclosure.categories import categories_of, ensure_standard_categories
from plugins.disclosure.tables import Item
from portal.accounts.tables import Unit
from portal.db import write_transaction
from portal.jobs import now as utc_now
from portal.localtime import local
from portal.richtext import plain_text

# Per standard category: (title, body) with {unit} for the unit's name; {year} the current year.
ITEMS = {
    "functions": [
        ("{unit}主要职责", "<h3>一、主要职责</h3><p>贯彻执行国家和省、市关于政务公开工作的方针政策和决策部署。</p>"
                           "<ul><li>负责本级政府信息公开目录的编制和维护。</li><li>组织协调政府信息主动公开和依申请公开工作。</li></ul>"),
        ("{unit}内设机构", "办公室、农业农村局、大数据局等内设机构的职责分工和联系方式。\n\n办公时间：工作日上午9:00—12:00，下午13:30—17:30。"),
    ],
    "policies": [
        ("{unit}关于进一步推进政务公开工作的实施意见", "为深入贯彻《中华人民共和国政府信息公开条例》，进一步提升政务公开质量，结合本地实际，提出如下实施意见。\n\n"
                                                     "一、坚持以公开为常态、不公开为例外。\n\n二、加强政策解读和回应关切。"),
        ("{unit}电子政务邮箱管理细则（试行）", "为规范电子政务邮箱使用，保障政务信息安全稳定交换，制定本细则。\n\n"
                                               "第一条 各单位应当使用统一电子政务邮箱办理公务。\n\n第二条 凡涉密内容严禁通过电子政务邮箱发送。"),
    ],
    "plans": [
        ("{unit}{year}年政务公开工作要点", "<p>{year}年全县政务公开工作以提升公开质量为重点。</p>"
                                           "<ol><li>完善政府信息公开目录。</li><li>建设乡镇政务公开专区。</li><li>推进适老化改造。</li></ol>"),
        ("{unit}数字政府建设三年行动计划", "统筹推进电子政务和政务数据建设，提高政务服务能力，优化营商环境。"),
    ],
    "budgets": [
        ("{unit}{year}年部门预算公开", "<table><thead><tr><th>项目</th><th>金额（万元）</th></tr></thead>"
                                       "<tbody><tr><td>一般公共预算支出</td><td>1,280.50</td></tr>"
                                       "<tr><td>政府性基金预算支出</td><td>96.00</td></tr></tbody></table>"),
        ("{unit}上年度部门决算公开", "上年度收入、支出决算总体情况及“三公”经费决算情况说明。"),
    ],
    "permits": [
        ("{unit}行政许可事项清单", "本单位实施的行政许可事项名称、设定依据、实施机关和办理时限。"),
        ("{unit}行政处罚结果公示", "依法对违法行为作出的行政处罚决定，自作出之日起七个工作日内公示。"),
    ],
    "services": [
        ("{unit}公共服务事项目录", "社会保障、医疗卫生、教育、住房等公共服务事项的办理条件、所需材料和办理流程。"),
        ("{unit}政务服务大厅办事指南", "政务服务大厅设综合受理窗口，实行“一窗受理、集成服务”。\n\n咨询电话：0531-12345。"),
    ],
    "personnel": [
        ("{unit}{year}年公开招聘工作人员公告", "根据工作需要，按照公开、平等、竞争、择优的原则，公开招聘工作人员若干名。"),
        ("{unit}干部任前公示", "经研究，拟任命以下同志担任相关职务，现予以公示，公示期为五个工作日。"),
    ],
    "news": [
        ("{unit}召开政务公开工作推进会", "会议通报了上半年政务公开工作情况，部署了下一阶段重点任务。"),
        ("乡镇政务大厅政务公开专区投入使用", "政务公开专区设置查阅终端，群众可现场查阅政府信息、政策文件和办事指南。"),
        ("{unit}开展电子政务邮箱安全检查", "检查覆盖各部门邮箱账号，重点检查弱口令、异地登录和长期未使用账号。"),
    ],
    "notices": [
        ("关于{year}年国庆节放假安排的通知", "根据国务院办公厅通知精神，现将国庆节放假安排通知如下：10月1日至8日放假调休，共8天。"),
        ("关于开展政府信息公开工作年度报告编制的通知", "各部门应当于1月31日前向本级政府信息公开工作主管部门提交本部门上一年度政府信息公开工作年度报告。"),
    ],
}


async def seed_demo_catalog(portal, units: dict[str, int]) -> int:
    """Give each demo unit its catalog and published items; returns how many items were added."""
    moment = utc_now()
    year = local(moment).year
    added = 0
    for unit_id in units.values():
        unit = await Unit.select(Unit.name).where(Unit.id == unit_id).first()
        await ensure_standard_categories(unit_id)
        rows = []
        for category in await categories_of(unit_id):
            for index, (title, body) in enumerate(ITEMS.get(category["key"], [])):
                # Spread over the past weeks, so lists and feeds have an order.
                published = moment - timedelta(days=3 * (index + 1) + category["position"], hours=unit_id)
                text = body.format(unit=unit["name"], year=year)
                rows.append(Item(
                    unit=unit_id, category=category["id"], title=title.format(unit=unit["name"], year=year)[:200],
                    document_date=local(published).date(), issuer=unit["name"], body=text, body_text=plain_text(text),
                    classification="public", status="published", publish_at=published,
                    created_at=published, updated_at=published,
                ))
        # Oldest first, so ids follow the publication order as they do in a catalog grown over time.
        rows.sort(key=lambda row: row.publish_at)
        async with write_transaction():
            await Item.insert(*rows)
        added += len(rows)
    return added
