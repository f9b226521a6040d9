"""A generated multi-channel data set with planted truth, for the fusion tests and the benchmark.

`generate()` writes a county's 12345 work orders plus the 110 and online records that other
channels received, as the rows of `petitions.imports` (so they go through the real import):

- planted cross-channel duplicates: a 12345 matter that also reached 110 or the online platform,
  reworded (other synonyms, another order, a dropped detail, "3个月" for "三个月", the channel's
  own boilerplate), with the phone written differently (+86, spaces, dashes), the address
  written differently (三栋 / 3栋, the town only instead of the village) and a time skew of up to
  72 hours; some are reported by another family member (another phone, same village);
- precision traps: repeat callers raising *different* matters through several channels within
  days, and neighbours raising different matters of the same kind in the same village;
- repeat callers (重复来电) with many 12345/110 calls and professional claimants (职业索赔人)
  with many consumer complaints, plus people just under each threshold;
- bad rows (a phone one digit short, an impossible date, a town outside the county, a missing
  title, a head count that is not a number) at the requested rate, each with the field the
  import report must name (`DataSet.bad_fields`).

Deterministic for a seed. No database access: the caller passes the county's places.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国红梅志文斌辉鹏飞宇浩凯婷雪琳晨欣怡佳俊峰亮波宁海燕林凤云春晓东丹萍颖慧德福荣贵长金"
ESTATES = "锦绣 建设 和平 东风 友谊 光明 幸福 文化 新华 人民 春华 滨江 金桥 银杏 玉兰 桂花 紫薇 翠竹 星湖 龙湖 凤凰 朝阳 阳光 蓝天 书香 学府 泉塘 康宁 安居 福星 华庭 开元 永安 兴隆 杏林 桃源 荷花 向阳 清水 汇金 百花 万福 仁和 德润 金湾 银湖 嘉园 盛世 惠民 泰和".split()
ESTATE_KIND = ("小区", "花园", "家园", "苑", "公寓")
ROADS = "人民 解放 建设 五一 中山 新华 青年 迎宾 滨河 朝阳 文化 工业 长兴 振兴 育才".split()
FIRMS = "宏达 鑫源 华强 永盛 恒通 金鼎 众诚 天宇 瑞丰 兴旺 安泰 博远 嘉信 广厦 长城 顺发 隆昌 富安 汇通 联创".split()
SHOPS = "超市 便利店 电器城 家具店 手机店 服装店 药店 母婴店 电动车店 建材店 培训机构 健身房 美容院 汽车4S店".split()
GOODS = "电动车 手机 冰箱 空调 洗衣机 热水器 沙发 床垫 奶粉 保健品 羽绒服 运动鞋 月饼 白酒 茶叶 蜂蜜 农药 化肥 种子 课程".split()
CN_NUM = "零一二三四五六七八九十"


def _cn(n: int) -> str:
    if n <= 10:
        return CN_NUM[n]
    if n < 20:
        return "十" + (CN_NUM[n - 10] if n > 10 else "")
    return CN_NUM[n // 10] + "十" + (CN_NUM[n % 10] if n % 10 else "")


# A matter is a set of facts; each fact has several wordings ("synonyms"). A reworded copy picks
# other wordings, another order, and may drop a detail.
TEMPLATES: dict[str, dict] = {
    "labour": {
        "category": ("劳动保障-欠薪", "劳资纠纷", "劳动和社会保障"),
        "title": ("{site}拖欠农民工工资", "{boss}欠薪{months}", "讨要{site}工钱", "{site}工资{months}未发"),
        "facts": [
            ("在{spot}的{site}务工", "在{spot}{site}干活", "于{spot}附近的{site}打工"),
            ("{boss}拖欠工资{months}", "{boss}欠了{months}的工钱", "{boss}{months}没发工资"),
            ("共计{amount}", "总共{amount}", "约{amount}"),
            ("多次讨要未果", "多次找{boss}要钱都没给", "协商多次没有结果"),
            ("要求尽快结清工资", "请求帮忙讨薪", "希望督促{boss}支付"),
        ],
    },
    "property": {
        "category": ("物业管理", "城乡建设-物业", "物业纠纷"),
        "title": ("{estate}{thing}坏了没人修", "{estate}物业不作为", "{estate}{thing}长期故障"),
        "facts": [
            (
                "{estate}{building}的{thing}坏了{days}",
                "{estate}{building}{thing}故障已有{days}",
                "{estate}{building}{thing}{days}一直没修好",
            ),
            ("物业公司不予维修", "物业推脱不管", "找物业多次都不处理"),
            ("{who}生活很不方便", "影响{who}正常生活", "{who}意见很大"),
            ("要求物业尽快修复", "请督促物业维修", "希望尽快解决"),
        ],
    },
    "neighbour": {
        "category": ("邻里纠纷", "纠纷-邻里纠纷", "噪音扰民"),
        "title": ("{estate}{building}{noise}扰民", "邻居{noise}影响休息", "{noise}严重扰民"),
        "facts": [
            (
                "{estate}{building}楼上住户{noise}",
                "住在{estate}{building}的邻居{noise}",
                "{estate}{building}有人{noise}",
            ),
            ("每天晚上{hour}点以后还在", "经常到深夜{hour}点", "半夜{hour}点都不停"),
            ("上门沟通多次无果", "协商了几次都没用", "说了也不听"),
            ("请求相关部门处理", "希望有人管一管", "要求制止扰民行为"),
        ],
    },
    "consumer": {
        "category": ("消费维权", "市场监管-消费投诉", "购物纠纷"),
        "title": ("{shop}销售的{goods}有质量问题", "购买{goods}后商家拒绝退货", "投诉{shop}{goods}质量"),
        "facts": [
            (
                "在{road}路的{firm}{shop}购买了{goods}",
                "于{firm}{shop}（{road}路）买了{goods}",
                "在{road}路{firm}{shop}买的{goods}",
            ),
            ("使用{days}就出现质量问题", "买回来{days}就坏了", "不到{days}就出了故障"),
            ("商家拒绝退换", "商家不给退货也不给换", "找商家协商被拒"),
            ("要求{shop}退一赔三", "要求退款并赔偿", "请求依法处理并赔偿"),
        ],
    },
    "environment": {
        "category": ("环境保护", "生态环境-污染", "环境污染"),
        "title": ("{firm}{factory}{pollution}", "{spot}{pollution}严重", "投诉{factory}排污"),
        "facts": [
            (
                "{spot}的{firm}{factory}{pollution}",
                "{firm}{factory}（{spot}）{pollution}",
                "{spot}附近一家{factory}{pollution}",
            ),
            ("气味刺鼻", "味道很难闻", "臭气熏天"),
            ("影响{who}生活", "{who}深受其害", "附近{who}意见很大"),
            ("要求环保部门查处", "请求尽快处理", "希望责令整改"),
        ],
    },
    "land": {
        "category": ("土地纠纷", "国土资源-宅基地", "土地"),
        "title": ("宅基地被{neighbour}侵占", "{neighbour}建房占用我家宅基地", "宅基地边界纠纷"),
        "facts": [
            ("{spot}{neighbour}建房", "{neighbour}在{spot}新建房屋", "{spot}的{neighbour}盖房子"),
            (
                "占用我家宅基地约{area}平方米",
                "侵占我家宅基地{area}平方米左右",
                "多占了我家{area}平方米宅基地",
            ),
            ("村里调解{times}没有结果", "村委会协调{times}无果", "经过{times}调解仍未解决"),
            ("要求恢复原状", "请求依法确权", "希望政府主持公道"),
        ],
    },
    "lending": {
        "category": ("民间借贷", "债务纠纷", "借款纠纷"),
        "title": ("{boss}借款{amount}不还", "讨要借款{amount}", "借钱不还纠纷"),
        "facts": [
            ("{year}年借给{boss}{amount}", "{boss}在{year}年向我借了{amount}", "{year}年{boss}借走{amount}"),
            ("约定{months}内归还", "说好{months}就还", "承诺{months}还款"),
            ("到期后一直拖欠", "现在电话也不接", "到期至今分文未还"),
            ("要求帮助追回借款", "请求依法处理", "希望督促还款"),
        ],
    },
    "traffic": {
        "category": ("交通事故", "纠纷-交通事故", "交通"),
        "title": ("{road}路交通事故赔偿纠纷", "车祸后对方不赔偿", "{road}路撞车赔偿纠纷"),
        "facts": [
            (
                "在{road}路与{spot}路口被{vehicle}撞伤",
                "于{road}路{spot}路口被一辆{vehicle}撞了",
                "{road}路口被{vehicle}刮倒受伤",
            ),
            ("医疗费花了{amount}", "住院花费{amount}", "已经垫付医药费{amount}"),
            ("对方拒绝赔偿", "肇事方不肯赔钱", "对方一直推脱"),
            ("要求对方承担医药费", "请求协调赔偿", "希望交警部门处理"),
        ],
    },
}
CATEGORY_WEIGHTS = {
    "labour": 3,
    "property": 3,
    "neighbour": 3,
    "consumer": 2,
    "environment": 1,
    "land": 1,
    "lending": 1,
    "traffic": 1,
}
WRAPPERS = {
    "hotline_12345": ("市民来电反映：", "来电人反映：", "市民反映：", ""),
    "police_110": ("报警人称", "报警人称：", "报警人反映"),
    "online": ("网民留言：", "", "信访人反映："),
}


@dataclass
class Place:
    town: str
    village: str
    code: str  # the village's region code


@dataclass
class Person:
    name: str
    phone: str
    id_number: str = ""


@dataclass
class Matter:
    kind: str
    slots: dict[str, str]
    place: Place
    at: dt.datetime
    person: Person
    people: int = 1


@dataclass
class DataSet:
    hotline: list[dict] = field(default_factory=list)  # rows of the 12345 file (Chinese headers)
    police: list[dict] = field(default_factory=list)
    online: list[dict] = field(default_factory=list)
    duplicate_pairs: set[tuple[str, str, str]] = field(default_factory=set)  # (12345 ref, channel, other ref)
    bad_refs: set[str] = field(default_factory=set)
    bad_fields: dict[str, str] = field(default_factory=dict)  # bad row's ref → the field at fault
    repeat_caller_phones: set[str] = field(default_factory=set)  # normalized
    claimant_keys: set[str] = field(default_factory=set)  # ID number, else normalized phone


class Generator:
    def __init__(
        self, places: Sequence[Place], *, seed: int = 7, start: dt.datetime | None = None, days: int = 180
    ):
        self.rng = random.Random(seed)
        self.places = list(places)
        self.start = start or dt.datetime(2026, 1, 5, 8, 0, tzinfo=SH)
        self.days = days
        self.phones: set[str] = set()
        self.seq = {"hotline_12345": 0, "police_110": 0, "online": 0}

    # -- people and things --------------------------------------------------------------
    def name(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + r.choice(GIVEN) + (r.choice(GIVEN) if r.random() < 0.7 else "")

    def phone(self) -> str:
        while True:
            p = self.rng.choice(("13", "15", "17", "18", "19")) + "".join(
                self.rng.choice("0123456789") for _ in range(9)
            )
            if p not in self.phones and p[2] != "0":
                self.phones.add(p)
                return p

    def id_number(self) -> str:
        from stdnum.cn import ric

        r = self.rng
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=r.randrange(0, 365 * 50))
        body = f"430124{birth:%Y%m%d}{r.randrange(0, 1000):03d}"
        return body + ric.calc_check_digit(body + "0")

    def person(self, with_id: float = 0.2) -> Person:
        return Person(self.name(), self.phone(), self.id_number() if self.rng.random() < with_id else "")

    def when(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.rng.randrange(0, self.days * 86400 - 4 * 86400))

    def slots(self, place: Place) -> dict[str, str]:
        r = self.rng
        months = r.randint(2, 11)
        days = r.randint(3, 40)
        amount = r.choice((r.randint(3, 98) * 1000, r.randint(11, 95) * 1000 + 500))
        estate = f"{r.choice(ESTATES)}{r.choice(ESTATE_KIND)}"
        building = r.randint(1, 18)
        return {
            "spot": r.choice(
                (
                    f"{place.village}{r.choice(ROADS)}路",
                    f"{place.village}{r.choice(ESTATES)}组",
                    f"{place.village}",
                )
            ),
            "site": r.choice(("", ""))
            + f"{r.choice(FIRMS)}{r.choice(('建筑工地', '装修工程', '物流园', '砖厂', '养殖场', '食品厂'))}",
            "boss": r.choice(
                (
                    f"包工头{r.choice(SURNAMES)}某",
                    f"{r.choice(FIRMS)}{r.choice(('建筑公司', '劳务公司', '工程队'))}",
                    f"老板{r.choice(SURNAMES)}某",
                )
            ),
            "months": f"{_cn(months)}个月|{months}个月",
            "amount": f"{amount / 10000:g}万元|{amount}元",
            "estate": estate,
            "building": f"{_cn(building)}栋|{building}栋",
            "thing": r.choice(("电梯", "水泵", "路灯", "门禁", "消防栓", "化粪池", "屋顶防水", "供水管道")),
            "days": f"{_cn(days)}天|{days}天",
            "who": r.choice(("老人", "住户", "村民", "居民", "业主")),
            "noise": r.choice(
                ("深夜装修", "养狗吠叫", "打麻将吵闹", "跳广场舞放音乐", "开KTV唱歌", "搬动家具")
            ),
            "hour": str(r.randint(11, 12) if r.random() < 0.5 else r.randint(1, 3)),
            "road": r.choice(ROADS),
            "firm": r.choice(FIRMS),
            "shop": r.choice(SHOPS),
            "goods": r.choice(GOODS),
            "factory": r.choice(("养猪场", "砂石厂", "化工厂", "砖厂", "洗车场", "餐馆", "印染厂")),
            "pollution": r.choice(("污水直排", "粉尘污染", "夜间偷排废气", "废渣乱倒", "油烟扰民")),
            "neighbour": f"邻居{r.choice(SURNAMES)}某",
            "area": str(r.randint(5, 60)),
            "times": r.choice(("两次", "三次", "多次")),
            "year": str(r.randint(2019, 2025)),
            "vehicle": r.choice(("电动车", "小轿车", "货车", "摩托车")),
        }

    def matter(
        self,
        kind: str | None = None,
        *,
        place: Place | None = None,
        person: Person | None = None,
        at: dt.datetime | None = None,
    ) -> Matter:
        r = self.rng
        kind = kind or r.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
        place = place or r.choice(self.places)
        people = r.choice((5, 6, 8, 12, 20)) if kind in ("labour", "environment") and r.random() < 0.08 else 1
        return Matter(kind, self.slots(place), place, at or self.when(), person or self.person(), people)

    # -- rendering ------------------------------------------------------------------------
    def _fill(self, text: str, slots: dict[str, str], numeric: bool) -> str:
        values = {k: (v.split("|")[1 if numeric else 0] if "|" in v else v) for k, v in slots.items()}
        return text.format(**values)

    def render(self, m: Matter, channel: str, *, reword: bool) -> tuple[str, str, str]:
        """(category text, title, description) of the matter as `channel` would record it."""
        r = self.rng
        t = TEMPLATES[m.kind]
        numeric = r.random() < 0.5
        facts = [r.choice(variants) for variants in t["facts"]]
        if reword:
            if r.random() < 0.5 and len(facts) > 3:
                del facts[r.choice((2, len(facts) - 2))]
            if r.random() < 0.5:
                middle = facts[1:-1]
                r.shuffle(middle)
                facts = [facts[0], *middle, facts[-1]]
        body = "，".join(self._fill(f, m.slots, numeric) for f in facts) + "。"
        wrapper = r.choice(WRAPPERS[channel])
        if m.people > 1:
            body = f"{m.people}人" + body if r.random() < 0.5 else body + f"共{m.people}人。"
        return r.choice(t["category"]), self._fill(r.choice(t["title"]), m.slots, numeric), wrapper + body

    def phone_variant(self, phone: str) -> str:
        r = self.rng.random()
        if r < 0.25:
            return f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
        if r < 0.5:
            return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
        if r < 0.65:
            return f"0086{phone}"
        if r < 0.8:
            return f"+86{phone}"
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"

    def address(self, m: Matter, *, variant: bool) -> str:
        b = m.slots["building"].split("|")
        building = b[1] if variant else b[0]
        return f"{m.place.village}{m.slots['estate']}{building}"

    def next_ref(self, channel: str, at: dt.datetime) -> str:
        self.seq[channel] += 1
        prefix = {"hotline_12345": "GD", "police_110": "J430124", "online": "WX"}[channel]
        return f"{prefix}{at:%Y%m%d}{self.seq[channel]:07d}"

    def row(
        self,
        m: Matter,
        channel: str,
        *,
        reword: bool = False,
        phone: str | None = None,
        at: dt.datetime | None = None,
        place_mode: str = "code",
        address_variant: bool = False,
    ) -> dict:
        category, title, description = self.render(m, channel, reword=reword)
        at = at or m.at
        ref = self.next_ref(channel, at)
        headers = {
            "hotline_12345": (
                "工单编号",
                "来电时间",
                "来电人",
                "来电号码",
                "证件号码",
                "诉求类别",
                "诉求标题",
                "诉求内容",
                "涉及人数",
                "详细地址",
            ),
            "police_110": (
                "警情编号",
                "报警时间",
                "报警人",
                "报警电话",
                "身份证号",
                "警情类别",
                "警情摘要",
                "简要案情",
                "涉及人数",
                "发生地址",
            ),
            "online": (
                "信访件编号",
                "提交时间",
                "信访人",
                "联系电话",
                "证件号码",
                "问题分类",
                "信访标题",
                "信访内容",
                "信访人数",
                "详细地址",
            ),
        }[channel]
        values = (
            ref,
            at.strftime("%Y-%m-%d %H:%M:%S"),
            m.person.name,
            phone if phone is not None else m.person.phone,
            m.person.id_number,
            category,
            title,
            description,
            str(m.people),
            self.address(m, variant=address_variant),
        )
        out = dict(zip(headers, values, strict=True))
        if place_mode == "code":
            out.update({"区划代码": m.place.code, "所属乡镇": "", "所属村（社区）": ""})
        elif place_mode == "names":
            out.update({"区划代码": "", "所属乡镇": m.place.town, "所属村（社区）": m.place.village})
        else:  # town only: the other channel knew only the town
            out.update({"区划代码": "", "所属乡镇": m.place.town, "所属村（社区）": ""})
        return out


def ref_of(row: dict) -> str:
    return row.get("工单编号") or row.get("警情编号") or row.get("信访件编号")


def generate(
    places: Sequence[Place],
    *,
    hotline_rows: int,
    duplicate_rate: float = 0.05,
    bad_rate: float = 0.01,
    independent_other_rate: float = 0.05,
    repeat_callers: int = 19,
    calls_per_repeat_caller: tuple[int, int] = (8, 30),
    near_repeat_callers: int = 10,
    claimants: int = 29,
    complaints_per_claimant: tuple[int, int] = (12, 40),
    near_claimants: int = 10,
    repeat_caller_min: int = 5,
    claimant_min: int = 10,
    seed: int = 7,
    start: dt.datetime | None = None,
    days: int = 180,
) -> DataSet:
    """The data set (see the module docstring). `hotline_rows` counts every row of the 12345 file."""
    g = Generator(places, seed=seed, start=start, days=days)
    r = g.rng
    ds = DataSet()
    # Repeat callers: many calls about different matters, through 12345 and 110.
    for _ in range(repeat_callers):
        p = g.person(with_id=0)
        ds.repeat_caller_phones.add(p.phone)
        home = r.choice(g.places)
        for _ in range(r.randint(*calls_per_repeat_caller)):
            m = g.matter(place=home if r.random() < 0.7 else None, person=p)
            ch = "hotline_12345" if r.random() < 0.7 else "police_110"
            row = g.row(m, ch, phone=g.phone_variant(p.phone) if r.random() < 0.3 else p.phone)
            (ds.hotline if ch == "hotline_12345" else ds.police).append(row)
    for _ in range(near_repeat_callers):  # just under the threshold
        p = g.person(with_id=0)
        for _ in range(repeat_caller_min - 1):
            m = g.matter(person=p)
            ds.hotline.append(g.row(m, "hotline_12345"))
    # Professional claimants: consumer complaints through 12345 and online, by ID (or phone).
    for _ in range(claimants):
        p = g.person(with_id=0.6)
        ds.claimant_keys.add(p.id_number or p.phone)
        for _ in range(r.randint(*complaints_per_claimant)):
            m = g.matter("consumer", person=p)
            if r.random() < 0.6:
                ds.hotline.append(g.row(m, "hotline_12345"))
            else:
                ds.online.append(g.row(m, "online"))
    for _ in range(near_claimants):
        p = g.person(with_id=0.6)
        for _ in range(claimant_min - 1):
            ds.online.append(g.row(g.matter("consumer", person=p), "online"))
    # Ordinary 12345 matters, a share of them also reported through another channel.
    bad = int(hotline_rows * bad_rate)
    ordinary = max(hotline_rows - len(ds.hotline) - bad, 0)
    n_dups = int(hotline_rows * duplicate_rate)
    for i in range(ordinary):
        m = g.matter()
        row = g.row(m, "hotline_12345", place_mode="code" if r.random() < 0.6 else "names")
        ds.hotline.append(row)
        if i < n_dups:
            ch = "police_110" if r.random() < 0.5 else "online"
            skew = dt.timedelta(minutes=r.randint(-72 * 60, 72 * 60))
            family = r.random() < 0.15  # another family member, another phone
            other_person = Person(g.name(), g.phone()) if family else Person(m.person.name, m.person.phone)
            dup = Matter(m.kind, m.slots, m.place, m.at + skew, other_person, m.people)
            other = g.row(
                dup,
                ch,
                reword=True,
                phone=other_person.phone if family else g.phone_variant(m.person.phone),
                place_mode=r.choice(("code", "names", "names", "town")) if not family else "names",
                address_variant=r.random() < 0.5,
            )
            (ds.police if ch == "police_110" else ds.online).append(other)
            ds.duplicate_pairs.add((ref_of(row), ch, ref_of(other)))
    # Independent records of the other channels (no 12345 counterpart), some in the same
    # village and days as a 12345 matter of the same kind: the precision traps.
    for _ in range(int(hotline_rows * independent_other_rate)):
        base_row = r.choice(ds.hotline) if ds.hotline else None
        ch = "police_110" if r.random() < 0.5 else "online"
        m = g.matter()
        if base_row is not None and r.random() < 0.5:
            code = base_row.get("区划代码")
            place = next((p for p in g.places if p.code == code), m.place)
            at = dt.datetime.strptime(_time_of(base_row), "%Y-%m-%d %H:%M:%S").replace(tzinfo=SH)
            m = g.matter(place=place, at=at + dt.timedelta(hours=r.randint(-48, 48)))
        (ds.police if ch == "police_110" else ds.online).append(g.row(m, ch, place_mode="names"))
    # Bad rows in the 12345 file.
    towns = sorted({p.town for p in g.places})
    for i in range(bad):
        m = g.matter()
        row = g.row(m, "hotline_12345", place_mode="names")
        kind = i % 5
        if kind == 0:
            row["来电号码"] = row["来电号码"][:-1]
            fault = "phone"
        elif kind == 1:
            row["来电时间"] = "2026/13/45 25:00"
            fault = "reported_at"
        elif kind == 2:
            row["所属乡镇"] = "不存在镇" if "不存在镇" not in towns else "无此镇"
            row["所属村（社区）"] = ""
            fault = "town"
        elif kind == 3:
            row["诉求标题"] = ""
            fault = "title"
        else:
            row["涉及人数"] = "若干"
            fault = "people_count"
        ds.bad_refs.add(row["工单编号"])
        ds.bad_fields[row["工单编号"]] = fault
        ds.hotline.insert(r.randrange(len(ds.hotline) + 1), row)
    r.shuffle(ds.hotline)
    return ds


def truth_lists(ds: DataSet, *, repeat_caller_min: int, claimant_min: int) -> tuple[set[str], set[str]]:
    """The repeat callers (normalized phones) and claimants (ID, else phone) the data set holds.

    Counted from the good rows by the lists' own definitions: 12345 + 110 calls by phone; consumer
    complaints (category mapped as the import maps it) by person, across every channel.
    """
    from cases.crypto import normalize_phone

    from .imports import map_category

    calls: dict[str, int] = {}
    complaints: dict[str, int] = {}
    for channel, rows in (("hotline_12345", ds.hotline), ("police_110", ds.police), ("online", ds.online)):
        for row in rows:
            if ref_of(row) in ds.bad_refs:
                continue
            phone = normalize_phone(row.get("来电号码") or row.get("报警电话") or row.get("联系电话") or "")
            id_number = row.get("证件号码") or row.get("身份证号") or ""
            if channel != "online" and phone:
                calls[phone] = calls.get(phone, 0) + 1
            category = row.get("诉求类别") or row.get("警情类别") or row.get("问题分类") or ""
            if map_category(category) == "consumer":
                key = id_number or phone
                complaints[key] = complaints.get(key, 0) + 1
    return (
        {p for p, n in calls.items() if n >= repeat_caller_min},
        {k for k, n in complaints.items() if n >= claimant_min},
    )


def _time_of(row: dict) -> str:
    return row.get("来电时间") or row.get("报警时间") or row.get("提交时间")


HOTLINE_HEADERS = (
    "工单编号",
    "来电时间",
    "来电人",
    "来电号码",
    "证件号码",
    "区划代码",
    "所属乡镇",
    "所属村（社区）",
    "详细地址",
    "诉求类别",
    "诉求标题",
    "诉求内容",
    "涉及人数",
)


def write_csv(rows: Sequence[dict], path, headers: Sequence[str] = HOTLINE_HEADERS) -> None:
    import csv

    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(headers), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
