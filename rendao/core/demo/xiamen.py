"""The Xiamen Red Cross tree used by the demo.

Names are the real districts, streets (街道) and towns (镇) of Xiamen and a
sample of their communities (社区), each with its 12-digit statistical division
code (统计用区划代码). Codes follow the National Bureau of Statistics scheme as
published around 2020–2021; where a unit was created later and its code could
not be checked, the code is derived (the next free number in the same range)
and marked "derived" below.

Population figures are illustrative: districts and the city are rounded from
the 2020 census; streets, towns and communities are plausible round numbers
chosen so that coverage rates look realistic. Coordinates are approximate
office locations (WGS-84), good to a few hundred metres at best. Neither is
meant for anything but a demonstration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rendao.core.models import Branch

Kind = Branch.Kind
Inst = Branch.InstitutionType


@dataclass(frozen=True)
class Node:
    name: str
    kind: str
    code: str = ""
    population: int | None = None
    lat: str | None = None
    lon: str | None = None
    institution_type: str = ""
    children: tuple[Node, ...] = field(default=())


def _community(name: str, code: str, population: int) -> Node:
    return Node(f"{name}红十字会", Kind.COMMUNITY, code, population)


def _street(name: str, code9: str, population: int, lat: str, lon: str, *children: Node) -> Node:
    return Node(f"{name}红十字会", Kind.STREET, f"{code9}000", population, lat, lon, children=children)


def _institution(name: str, kind: str, lat: str | None = None, lon: str | None = None) -> Node:
    return Node(f"{name}红十字会", Kind.INSTITUTION, lat=lat, lon=lon, institution_type=kind)


SIMING = Node(
    "思明区红十字会",
    Kind.DISTRICT,
    "350203000000",
    1_073_000,
    "24.445400",
    "118.082200",
    children=(
        _street(
            "厦港街道",
            "350203001",
            72_000,
            "24.444000",
            "118.093000",
            _community("沙坡尾社区", "350203001018", 6_500),
            _community("鸿山社区", "350203001001", 8_200),
        ),
        _street("中华街道", "350203003", 45_000, "24.456000", "118.080000"),
        _street("滨海街道", "350203005", 85_000, "24.438000", "118.125000"),
        _street(
            "鹭江街道",
            "350203006",
            60_000,
            "24.460000",
            "118.075000",
            _community("营平社区", "350203006002", 7_800),
            _community("鹭江道社区", "350203006009", 5_900),
        ),
        _street("开元街道", "350203007", 130_000, "24.472000", "118.098000"),
        _street("梧村街道", "350203008", 110_000, "24.474000", "118.118000"),
        _street("筼筜街道", "350203009", 150_000, "24.488000", "118.105000"),
        _street(
            "莲前街道",
            "350203010",
            240_000,
            "24.485000",
            "118.160000",
            _community("前埔西社区", "350203010038", 12_000),
            _community("瑞景社区", "350203010026", 15_500),
        ),
        _street(
            "嘉莲街道",
            "350203011",
            120_000,
            "24.485000",
            "118.132000",
            _community("莲秀社区", "350203011048", 9_600),
            _community("盈翠社区", "350203011003", 11_200),
            _community("莲花五村社区", "350203011022", 8_700),
        ),
        _street(
            "鼓浪屿街道",
            "350203012",
            13_000,
            "24.447000",
            "118.068000",
            _community("龙头社区", "350203012005", 4_100),
            _community("内厝社区", "350203012008", 3_300),
        ),
        _institution("厦门第一中学", Inst.SCHOOL, "24.456200", "118.087400"),
        _institution("厦门大学附属中山医院", Inst.HOSPITAL, "24.480300", "118.099100"),
    ),
)

HULI = Node(
    "湖里区红十字会",
    Kind.DISTRICT,
    "350206000000",
    1_037_000,
    "24.512700",
    "118.146500",
    children=(
        _street(
            "湖里街道",
            "350206001",
            200_000,
            "24.506000",
            "118.096000",
            _community("湖里社区", "350206001001", 13_000),
            _community("东渡社区", "350206001005", 9_800),
        ),
        _street("殿前街道", "350206002", 180_000, "24.525000", "118.108000"),
        _street("禾山街道", "350206003", 260_000, "24.512000", "118.165000"),
        _street(
            "江头街道",
            "350206004",
            190_000,
            "24.501000",
            "118.138000",
            _community("江头社区", "350206004001", 14_500),
            _community("吕岭社区", "350206004003", 12_300),
        ),
        _street(
            "金山街道",
            "350206005",
            210_000,
            "24.510000",
            "118.190000",
            _community("五通社区", "350206005014", 10_400),
            _community("金山社区", "350206005021", 16_800),
        ),
        _institution("湖里中学", Inst.SCHOOL, "24.509500", "118.118600"),
        # The seed article: a first-aid station built with the city's Ocean and
        # Fisheries Bureau at the Fujian–Taiwan central fishing port (高崎).
        Node(
            "闽台中心渔港红十字救护站",
            Kind.INSTITUTION,
            lat="24.525600",
            lon="118.087900",
            institution_type=Inst.OTHER,
        ),
    ),
)

JIMEI = Node(
    "集美区红十字会",
    Kind.DISTRICT,
    "350211000000",
    1_036_000,
    "24.575700",
    "118.097000",
    children=(
        _street(
            "集美街道",
            "350211001",
            160_000,
            "24.575000",
            "118.105000",
            _community("岑东社区", "350211001001", 11_000),
            _community("浔江社区", "350211001005", 9_200),
        ),
        _street("侨英街道", "350211002", 170_000, "24.605000", "118.110000"),
        _street(
            "杏林街道",
            "350211003",
            180_000,
            "24.572000",
            "118.050000",
            _community("杏林社区", "350211003014", 12_600),
            _community("西亭社区", "350211003013", 10_100),
        ),
        _street("杏滨街道", "350211004", 170_000, "24.580000", "118.030000"),
        _street("灌口镇", "350211102", 200_000, "24.610000", "117.990000"),
        _street("后溪镇", "350211103", 150_000, "24.640000", "118.060000"),
        _institution("集美中学", Inst.SCHOOL, "24.577900", "118.107600"),
    ),
)

HAICANG = Node(
    "海沧区红十字会",
    Kind.DISTRICT,
    "350205000000",
    583_000,
    "24.484600",
    "118.032800",
    children=(
        _street("海沧街道", "350205001", 120_000, "24.440000", "117.995000"),
        _street("新阳街道", "350205002", 180_000, "24.530000", "118.025000"),
        _street(
            "嵩屿街道",
            "350205003",
            160_000,
            "24.490000",
            "118.055000",
            _community("海发社区", "350205003001", 12_800),
            _community("未来海岸社区", "350205003005", 14_300),
        ),
        # 东孚 was a town (镇) until it became a street office around 2020; its
        # code moved into the street range (004) with it.
        _street("东孚街道", "350205004", 120_000, "24.560000", "117.950000"),
    ),
)

TONGAN = Node(
    "同安区红十字会",
    Kind.DISTRICT,
    "350212000000",
    856_000,
    "24.722900",
    "118.152000",
    children=(
        _street(
            "大同街道",
            "350212001",
            160_000,
            "24.740000",
            "118.155000",
            _community("三秀社区", "350212001004", 9_500),
            _community("北门社区", "350212001013", 8_100),
        ),
        _street("祥平街道", "350212002", 180_000, "24.720000", "118.140000"),
        _street("莲花镇", "350212105", 40_000, "24.780000", "118.040000"),
        _street("新民镇", "350212106", 130_000, "24.680000", "118.135000"),
        _street("洪塘镇", "350212107", 70_000, "24.690000", "118.190000"),
        _street("西柯镇", "350212108", 160_000, "24.650000", "118.150000"),
        _street("汀溪镇", "350212109", 30_000, "24.820000", "118.130000"),
        _street("五显镇", "350212110", 50_000, "24.770000", "118.230000"),
    ),
)

XIANGAN = Node(
    "翔安区红十字会",
    Kind.DISTRICT,
    "350213000000",
    582_000,
    "24.618600",
    "118.247000",
    children=(
        _street(
            "大嶝街道",
            "350213001",
            25_000,
            "24.560000",
            "118.330000",
            _community("田墘社区", "350213001001", 3_800),
            _community("小嶝社区", "350213001009", 1_900),
        ),
        # The street offices below were carved out of 新店镇 and 马巷镇 in
        # 2021; their codes are derived (002–006), not checked.
        _street("新店街道", "350213002", 90_000, "24.610000", "118.245000"),
        _street("香山街道", "350213003", 60_000, "24.595000", "118.270000"),
        _street("金海街道", "350213004", 55_000, "24.575000", "118.280000"),
        _street("凤翔街道", "350213005", 50_000, "24.630000", "118.235000"),
        _street("民安街道", "350213006", 45_000, "24.650000", "118.285000"),
        _street(
            "马巷镇",
            "350213102",
            130_000,
            "24.655000",
            "118.255000",
            _community("五美社区", "350213102001", 7_400),
        ),
        _street("新圩镇", "350213103", 40_000, "24.720000", "118.270000"),
        _street("内厝镇", "350213111", 45_000, "24.620000", "118.310000"),
    ),
)

XIAMEN = Node(
    "厦门市红十字会",
    Kind.CITY,
    "350200000000",
    5_164_000,
    "24.479800",
    "118.089400",
    children=(
        SIMING,
        HULI,
        JIMEI,
        HAICANG,
        TONGAN,
        XIANGAN,
        # The city's organs form Red Cross volunteer teams through the
        # Working Committee of Municipal Organs (seed: 11 teams by 2019).
        _institution("市直机关", Inst.GOVERNMENT),
        # Co-builds the national first-aid training base with the city society.
        _institution("厦门医学院", Inst.SCHOOL, "24.616000", "118.063000"),
        _institution("厦门大学附属心血管病医院", Inst.HOSPITAL, "24.483000", "118.103000"),
    ),
)


def walk(node: Node = XIAMEN, parent: Node | None = None) -> list[tuple[Node | None, Node]]:
    """Every (parent, node) pair, parents before children, in a fixed order."""
    pairs: list[tuple[Node | None, Node]] = [(parent, node)]
    for child in node.children:
        pairs.extend(walk(child, node))
    return pairs
