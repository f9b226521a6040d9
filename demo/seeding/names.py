"""Word lists for fictional but plausible Chinese place and person names (no Faker at run time:
`make run` installs only the runtime dependencies)."""

from __future__ import annotations

import random

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国红梅志文斌辉鹏飞宇浩凯婷雪琳晨欣怡佳俊峰亮"
    "波宁海燕林凤云春霖晓东丹萍红艺颖慧德福荣贵长金"
)

TOWNS_URBAN = ("文昌", "龙泉", "紫荆", "桂湖", "星塘", "玉屏")
TOWNS_RURAL = (
    "白沙",
    "青石",
    "金塘",
    "花桥",
    "双江",
    "黄龙",
    "枫林",
    "石门桥",
    "高坪",
    "柳溪",
    "梅田",
    "荷塘",
)

COMMUNITY_NAMES = (
    "锦绣 建设 和平 东风 友谊 光明 幸福 文化 新华 人民 解放 胜利 团结 春华 秋实 滨江 湘江 金桥 银杏 玉兰 "
    "桂花 丹桂 紫薇 翠竹 星湖 月湖 龙湖 凤凰 朝阳 旭日 阳光 蓝天 青园 书香 学府 花园 泉塘 松雅 天华 康宁 "
    "安居 乐业 福星 华庭 新城 开元 长丰 永安 振兴 富民 兴隆 聚宝 城北 城南 城东 城西 站前 车站 商贸 工业园 "
    "杏林 梨园 桃源 荷花 莲塘 向阳 红旗 先锋 东湖 西湖 南湖 北湖 清水 碧桂 汇金 广场 体育 育才 民主 复兴 "
    "百花 万福 仁和 德润 安康 锦江 金湾 银湖 翠园 嘉园 盛世 和谐 惠民 鑫城 泰和 宏图 龙城 凤鸣 鹿鸣 怡园"
).split()
VILLAGE_FIRST = (
    "桃杨黄新石龙长大马枫竹荷莲金银白青高双古李罗周谭彭唐梅柳松杏梨茶泉洪沙丰安永兴福寿仁和太平东西南北上下中"
)
VILLAGE_SECOND = "塘山冲坪湾岭桥田溪洲江铺坝湖林垅坡源口港岗园"


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN_CHARS)
    if rng.random() < 0.75:
        given += rng.choice(GIVEN_CHARS)
    return rng.choice(SURNAMES) + given


def mobile(rng: random.Random) -> str:
    prefix = rng.choice(
        ("130", "133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "177", "186", "189")
    )
    return prefix + "".join(rng.choice("0123456789") for _ in range(8))


def unique_name(rng: random.Random, taken: set[str], make) -> str:
    """A name from `make(rng)` not yet in `taken` (added to it)."""
    for _ in range(1000):
        name = make(rng)
        if name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("name lists exhausted")


def village_name(rng: random.Random) -> str:
    return rng.choice(VILLAGE_FIRST) + rng.choice(VILLAGE_SECOND) + "村"


def community_name(rng: random.Random) -> str:
    return rng.choice(COMMUNITY_NAMES) + "社区"
