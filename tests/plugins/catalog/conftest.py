"""The organisation the catalog tests work in: province › city › county, departments with
catalog editors, the big-data bureau of the county and of the city with their reviewers."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from plugins.catalog.resources import ResourceForm, ItemForm, uscc_check_character
from plugins.catalog.tables import Classification
from portal.accounts.services import UnitForm, create_department, create_unit, load_current_user
from portal.i18n import locale_context


def uscc(body: str = "11371200MB012345") -> str:
    """A valid unified social credit code from its first 17 characters (one padded on)."""
    first17 = (body + "0" * 17)[:17]
    return first17 + uscc_check_character(first17)


@dataclass
class Org:
    province: int
    city: int
    county: int
    agri: int          # 黄河县农业农村局
    county_bureau: int  # 黄河县大数据局
    market: int        # 济南市市场监管局
    city_bureau: int   # 济南市大数据局
    province_bureau: int  # 山东省大数据局
    specs: dict        # name -> (roles, unit, department)
    make_user: object
    portal: object
    users: dict = field(default_factory=dict)  # name -> TestUser, made when first asked for

    async def test_user(self, name: str):
        if name not in self.users:
            roles, unit, department = self.specs[name]
            self.users[name] = await self.make_user(name, roles, unit_id=unit, department_id=department)
        return self.users[name]

    async def user(self, name: str):
        """The account as a request sees it (``CurrentUser``)."""
        return await load_current_user((await self.test_user(name)).id, self.portal.permissions)


@pytest.fixture
def in_english():
    """Service tests read the messages in English (pages are tested in the default zh_CN)."""
    with locale_context("en"):
        yield


@pytest.fixture
async def org(app, make_user) -> Org:
    province = await create_unit(None, UnitForm("山东省人民政府", "sd", "province", None, "sd.gov.example", "鲁政"))
    city = await create_unit(None, UnitForm("济南市人民政府", "jinan", "city", province, "jinan.gov.example", "济政"))
    county = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", city, "huanghe.gov.example", "黄河办"))
    agri = await create_department(None, county, "农业农村局")
    county_bureau = await create_department(None, county, "大数据局")
    market = await create_department(None, city, "市场监管局")
    city_bureau = await create_department(None, city, "大数据局")
    province_bureau = await create_department(None, province, "大数据局")
    specs = {
        "agri_editor": (["catalog_editor", "staff"], county, agri),
        "agri_editor2": (["catalog_editor", "staff"], county, agri),
        "agri_staff": (["staff"], county, agri),
        "market_editor": (["catalog_editor", "staff"], city, market),
        "county_reviewer": (["catalog_reviewer", "staff"], county, county_bureau),
        "county_reviewer2": (["catalog_reviewer", "staff"], county, county_bureau),
        "city_reviewer": (["catalog_reviewer", "staff"], city, city_bureau),
        "city_staff": (["staff"], city, market),
        "province_reviewer": (["catalog_reviewer", "staff"], province, province_bureau),
    }
    return Org(province, city, county, agri, county_bureau, market, city_bureau, province_bureau, specs, make_user, app.state.portal)


@pytest.fixture
def make_form():
    """``await make_form(name, code, **changes)``: a valid resource form (change what a test needs)."""
    return resource_form


@pytest.fixture
def classification_of():
    """``await classification_of(code)``: the id of the classification node with that code."""
    return classification_id


@pytest.fixture
def valid_uscc():
    return uscc


async def classification_id(code: str) -> int:
    return (await Classification.select(Classification.id).where(Classification.code == code).first())["id"]


async def resource_form(name: str = "农村土地承包经营权登记信息", code: str = "307016001", **changes) -> ResourceForm:
    values = dict(name=name, classification_id=str(await classification_id(code)), provider="黄河县农业农村局",
                  provider_code=uscc(), abstract="全县农村土地承包经营权的登记信息。", format="database", format_detail="MySQL",
                  share_type="conditional", share_conditions="仅用于农业补贴核验", share_method="platform_api",
                  open_type="closed", update_cycle="monthly", published_on="2026-03-01", secrecy="internal",
                  items=[ItemForm("承包方名称", "string", "100", ""), ItemForm("地块编码", "string", "19", "")])
    values.update(changes)
    return ResourceForm(**values)


@dataclass
class PublicCatalogs:
    """What the exchange formats' tests publish: resource ids by name, and which are public."""

    ids: dict          # name -> resource id
    public: set        # names open to the public (approved, classified public, open or on conditions)
    hidden: set        # names that must never be seen without login


@pytest.fixture
async def public_catalogs(org, valid_uscc) -> PublicCatalogs:
    """黄河县农业农村局 and 济南市市场监管局 with approved catalogs in which some resources are open to
    the public, some internal, secret or closed, and one open resource never filed; afterwards a
    draft change not yet approved."""
    from plugins.catalog import filing, resources

    public = dict(secrecy="public", open_type="open", share_type="unconditional", share_conditions="")
    county = {
        "农机购置补贴发放信息": await resource_form("农机购置补贴发放信息", abstract="农机购置补贴的发放记录", update_cycle="quarterly",
                                           items=[ItemForm("补贴对象", "string", "50", ""), ItemForm("补贴金额", "decimal", "", "元")], **public),
        "农产品质量抽检结果": await resource_form("农产品质量抽检结果", "307016", abstract="农产品质量安全例行抽检的结果", secrecy="public",
                                         open_type="conditional",
                                         open_conditions="经申请审核后提供", update_cycle="monthly"),
        "农村土地承包经营权登记信息": await resource_form(),
        "动物防疫秘密档案": await resource_form("动物防疫秘密档案", secrecy="secret"),
        "高标准农田建设项目": await resource_form("高标准农田建设项目", secrecy="public", open_type="closed"),
    }
    city = {"市场主体登记信息": await resource_form("市场主体登记信息", "102001", provider="济南市市场监管局",
                                              provider_code=uscc("11370100MB0000001"), abstract="企业和个体工商户的登记信息",
                                              update_cycle="realtime", published_on="2025-12-01", **public)}
    ids = {}
    for editor, department, reviewer, forms in (("agri_editor", org.agri, "county_reviewer", county),
                                                ("market_editor", org.market, "city_reviewer", city)):
        user = await org.user(editor)
        for name, form in forms.items():
            ids[name] = await resources.create(user, department, form, org.portal)
        filing_id = await filing.submit(user, department, "", org.portal)
        await filing.decide(await org.user(reviewer), filing_id, "approve", "", org.portal)
    market_editor = await org.user("market_editor")
    ids["未备案的开放资源"] = await resources.create(market_editor, org.market, await resource_form("未备案的开放资源", **public), org.portal)
    agri_editor = await org.user("agri_editor")
    changed = await resource_form("农机购置补贴发放信息（草稿改名）", update_cycle="quarterly", **public)
    await resources.update(agri_editor, ids["农机购置补贴发放信息"], changed, org.portal)
    public_names = {"农机购置补贴发放信息", "农产品质量抽检结果", "市场主体登记信息"}
    hidden = {"农村土地承包经营权登记信息", "动物防疫秘密档案", "高标准农田建设项目", "未备案的开放资源", "农机购置补贴发放信息（草稿改名）"}
    return PublicCatalogs(ids, public_names, hidden)
