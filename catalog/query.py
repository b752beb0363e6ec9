"""Query understanding for catalog search: free Portuguese text plus explicit params → a QueryPlan.

The plan says what to embed, the lexical vector, the payload filter, and what ranking boosts on.
What the text reveals (category, brand, power, stock) narrows the filter; explicit params win over it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from catalog.lexical import STOPWORDS, WORD, Quantity, lexical_vector, quantities
from kernel.schemas import CATEGORIES
from kernel.text import fold
from kernel.vectors import PayloadFilter, SparseVector

MAX_QUERY_CHARS = 512
MAX_LIMIT = 100
# "inversor 5 kW" keeps inverters from 3.5 to 6.5 kW; ranking then prefers the closest.
POWER_TOLERANCE = 0.3
# Windows tried first, narrowest first: candidates are picked by text similarity, so a wide window full
# of similar products could leave out the few that are closest in power.
NARROW_POWER_WINDOWS = (0.1, 0.2)
# Categories whose payload power_w is a rating a customer asks for (module Pmax, inverter AC, kit DC);
# "estrutura para painel 550W" must not filter structures by power.
POWER_CATEGORIES = frozenset({"module", "inverter", "microinverter", "hybrid_inverter", "kit"})
PHASED_CATEGORIES = frozenset({"inverter", "microinverter", "hybrid_inverter", "kit"})

# Folded words or phrases → category. When several occur, the earliest wins ("cabo para inversor").
CATEGORY_KEYWORDS: dict[str, str] = {
    **dict.fromkeys(["painel", "paineis", "modulo", "modulos", "placa", "placas"], "module"),
    **dict.fromkeys(["inversor", "inversores", "inverter"], "inverter"),
    **dict.fromkeys(["microinversor", "microinversores", "microinverter"], "microinverter"),
    **dict.fromkeys(["hibrido", "hibridos"], "hybrid_inverter"),
    **dict.fromkeys(["bateria", "baterias"], "battery"),
    **dict.fromkeys(["controlador", "controladores", "controlador de carga"], "charge_controller"),
    **dict.fromkeys(["kit", "kits", "gerador", "geradores"], "kit"),
    **dict.fromkeys(["estrutura", "estruturas", "suporte", "suportes", "trilho", "trilhos"], "structure"),
    **dict.fromkeys(["string box", "stringbox", "string boxes"], "string_box"),
    **dict.fromkeys(["cabo", "cabos"], "cable"),
    **dict.fromkeys(["conector", "conectores", "mc4"], "connector"),
}
# A word anywhere that turns a plain inverter into a more specific one ("inversor growatt híbrido"); an
# inverter that comes with a battery is a hybrid ("inversor com bateria").
INVERTER_REFINEMENTS: dict[str, str] = {
    "hibrido": "hybrid_inverter",
    "hibridos": "hybrid_inverter",
    "bateria": "hybrid_inverter",
    "baterias": "hybrid_inverter",
    "micro": "microinverter",
}
PHASE_WORDS: dict[str, int] = {
    **dict.fromkeys(["monofasico", "monofasica", "monofasicos", "monofase"], 1),
    **dict.fromkeys(["bifasico", "bifasica", "bifasicos", "bifase"], 2),
    **dict.fromkeys(["trifasico", "trifasica", "trifasicos", "trifase"], 3),
}
# "mono" next to a module means monocrystalline, so the short forms only count for phased categories.
SHORT_PHASE_WORDS: dict[str, int] = {"mono": 1, "bi": 2, "tri": 3}
IN_STOCK_PHRASES = ("em estoque", "pronta entrega", "disponivel", "disponiveis")
# Folded words or phrases → the roof a structure or kit mounts on; product titles say it in Portuguese or
# English ("Telhado Cerâmico", "(ceramic tile roof)"), customers by the material ("telha de barro", "zinco").
ROOF_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ["ceramico", "ceramica", "ceramicos", "ceramicas", "barro", "colonial", "ceramic"], "ceramico"
    ),
    **dict.fromkeys(
        ["metalico", "metalica", "metalicos", "metalicas", "zinco", "trapezoidal", "metal"], "metalico"
    ),
    **dict.fromkeys(["fibrocimento", "eternit", "fiber cement"], "fibrocimento"),
    **dict.fromkeys(["laje", "lajes", "slab"], "laje"),
    **dict.fromkeys(["solo", "chao", "ground"], "solo"),
}
ROOF_CATEGORIES = frozenset({"structure", "kit"})
# Sizes besides power that a query states and a product's title spells with the same unit: capacity (wh),
# current (a), voltage (v), cable section (mm) and length (m). Power has its own payload field.
TITLE_SIZE_UNITS = frozenset({"wh", "a", "v", "mm", "m"})
# Counted parts a query and a title state as "N <noun>": a string box's inputs ("2 entradas", "4e/1s"), a
# structure's module slots ("12 placas", "p/ 12 Módulos"). Ranked like sizes, under these units.
COUNT_NOUNS: dict[str, str] = {
    **dict.fromkeys(["entrada", "entradas"], "inputs"),
    **dict.fromkeys(["placa", "placas", "painel", "paineis", "modulo", "modulos"], "modules"),
}
_COUNT_RE = re.compile(rf"(?<![\w.,])(\d+)(?:\s*({'|'.join(COUNT_NOUNS)})\b|e(?=/\d+s\b))")
# Words naming one of a category's mutually exclusive kinds, as queries and titles spell them.
KIND_WORDS: dict[str, str] = {
    **dict.fromkeys(["mppt"], "mppt"),
    **dict.fromkeys(["pwm"], "pwm"),
    **dict.fromkeys(["monocristalino", "monocristalina", "monocrystalline"], "mono-c-si"),
    **dict.fromkeys(["policristalino", "policristalina", "polycrystalline"], "multi-c-si"),
    **dict.fromkeys(["litio", "lifepo4", "lithium"], "lifepo4"),
    **dict.fromkeys(["chumbo", "lead"], "lead_acid"),
}
# Next to a module, "mono" and "poli" are its cell technology (for phased categories "mono" is a phase).
MODULE_KIND_WORDS: dict[str, str] = {"mono": "mono-c-si", "poli": "multi-c-si"}
# Units written out that the lexical analysis leaves as words: spelled as the unit here, for the plan only.
_SPELLED_UNIT_RE = re.compile(r"(\d)\s*(?:metros?)\b")
# A kit's payload brand is its seller's; customers name the modules' or inverter's brand, which only the
# title says ("Jinko Solar modules + Growatt inverter"): ranking matches it there instead of filtering.
BRAND_IN_TITLE_CATEGORIES = frozenset({"kit"})
# First words of multi-word brands too common to stand for the brand on their own.
GENERIC_BRAND_WORDS = frozenset({"solar", "energy", "energia", "power", "tech", "green", "smart", "new"})
# Everyday words of solar queries that are one edit from a brand ("solares" → Solaris): never typos.
COMMON_WORDS = frozenset(
    {"solares", "fotovoltaico", "fotovoltaica", "fotovoltaicos", "fotovoltaicas", "telhado", "telha"}
    | {"metros", "entrada", "entradas", "saida", "saidas", "litio", "fixacao"}
)

# A word this long or longer that the text's vocabulary lacks is read as the nearest category, brand or
# phase word within one edit (a letter wrong, missing, extra, or two swapped; two edits from 8 letters):
# "growat", "paimel", "invesor", "trifasio". Shorter words are too often other words.
TYPO_MIN_LENGTH = 5

_ALNUM_RE = re.compile(r"[a-z0-9]+")
_WORD_RE = re.compile(WORD)


@dataclass(frozen=True)
class SearchParams:
    q: str
    limit: int = 10
    category: str | None = None
    brand: str | None = None
    min_power_w: float | None = None
    max_power_w: float | None = None
    in_stock: bool | None = None


@dataclass(frozen=True)
class QueryPlan:
    dense_text: str
    sparse: SparseVector | None  # None when the text has no exact terms left (e.g. only stopwords)
    filter: PayloadFilter
    explicit_filter: PayloadFilter  # the caller's params alone: a retry when text-derived conditions miss
    limit: int
    category: str | None
    brand: str | None  # spelled as in known_brands, i.e. as in the payload
    target_power_w: float | None
    power_tolerance: float
    phases: int | None
    capacity_kwh: float | None
    folded_words: str  # space-padded folded words, codes whole: " painel cs6w-550ms " for model/SKU matches
    narrow_filters: tuple[PayloadFilter, ...] = ()  # `filter` with tighter power windows, narrowest first
    read_as: str | None = None  # the folded query with its mistyped words as read, when it had any
    sizes: tuple[Quantity, ...] = ()  # stated sizes in TITLE_SIZE_UNITS (capacity in wh), for ranking
    roof_type: str | None = None  # a ROOF_WORDS value, for structures and kits
    kinds: tuple[str, ...] = ()  # KIND_WORDS values the text names


def validate_params(params: SearchParams) -> None:
    if not params.q.strip():
        raise ValueError("q must not be empty")
    if len(params.q) > MAX_QUERY_CHARS:
        raise ValueError(f"q must be at most {MAX_QUERY_CHARS} characters, got {len(params.q)}")
    if not 1 <= params.limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {params.limit}")
    if params.category is not None and params.category not in CATEGORIES:
        raise ValueError(f"unknown category {params.category!r}; expected one of {', '.join(CATEGORIES)}")
    for name in ("min_power_w", "max_power_w"):
        value = getattr(params, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {value}")
    low, high = params.min_power_w, params.max_power_w
    if low is not None and high is not None and low > high:
        raise ValueError(f"min_power_w ({low}) must not exceed max_power_w ({high})")


def _padded_words(folded: str) -> str:
    return f" {' '.join(_ALNUM_RE.findall(folded))} "


def _contains(padded: str, phrase: str) -> bool:
    return f" {phrase} " in padded


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (adjacent swaps count one), or `limit + 1` once it exceeds it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=8)
def _vocabulary(brand_phrases: tuple[tuple[str, str], ...]) -> frozenset[str]:
    """The one-word names a mistyped word may stand for: categories, brands, phases."""
    words = [
        *CATEGORY_KEYWORDS,
        *PHASE_WORDS,
        *INVERTER_REFINEMENTS,
        *(phrase for phrase, _ in brand_phrases),
    ]
    return frozenset(word for word in words if " " not in word and len(word) >= TYPO_MIN_LENGTH)


def _corrected(padded: str, vocabulary: frozenset[str]) -> str:
    """`padded` with each mistyped word replaced by the vocabulary word it most likely stands for."""
    words = padded.split()
    for position, word in enumerate(words):
        if len(word) < TYPO_MIN_LENGTH or word in vocabulary or not word.isalpha():
            continue
        if word in GENERIC_BRAND_WORDS or word in COMMON_WORDS or word in STOPWORDS:
            continue
        limit = 1 if len(word) < 8 else 2
        distance, nearest = min((_edit_distance(word, known, limit), known) for known in vocabulary)
        if distance <= limit:
            words[position] = nearest
    return f" {' '.join(words)} "


def _detect_category(padded: str) -> str | None:
    earliest: tuple[int, int, str] | None = None  # position, -length (longest first), category
    for phrase, category in CATEGORY_KEYWORDS.items():
        position = padded.find(f" {phrase} ")
        if position >= 0 and (earliest is None or (position, -len(phrase)) < earliest[:2]):
            earliest = (position, -len(phrase), category)
    if earliest is None:
        return None
    category = earliest[2]
    if category == "inverter":
        for word, refined in INVERTER_REFINEMENTS.items():
            if _contains(padded, word):
                return refined
    return category


@lru_cache(maxsize=8)
def _brand_phrases(known_brands: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """(folded phrase, brand as known), longest phrase first so "canadian solar" beats a shorter brand."""
    phrases = {" ".join(_ALNUM_RE.findall(fold(brand))): brand for brand in sorted(known_brands)}
    phrases.pop("", None)
    first_words = [phrase.split()[0] for phrase in phrases]
    for phrase, brand in list(phrases.items()):
        first = phrase.split()[0]
        if (
            first != phrase
            and len(first) >= 4
            and first_words.count(first) == 1
            and first not in phrases
            and first not in GENERIC_BRAND_WORDS | STOPWORDS
            and first not in CATEGORY_KEYWORDS
        ):
            phrases[first] = brand  # "painel canadian 550w" → Canadian Solar
    return tuple(sorted(phrases.items(), key=lambda item: (-len(item[0]), item[0])))


def _detect_brand(padded: str, brand_phrases: tuple[tuple[str, str], ...]) -> str | None:
    return next((brand for phrase, brand in brand_phrases if _contains(padded, phrase)), None)


def _detect_phases(padded: str, category: str | None) -> int | None:
    words = PHASE_WORDS | SHORT_PHASE_WORDS if category in PHASED_CATEGORIES else PHASE_WORDS
    return next((phases for word, phases in words.items() if _contains(padded, word)), None)


def roof_in(padded: str) -> str | None:
    """The roof the first of ROOF_WORDS in space-padded folded text names (a query's or a title's)."""
    return next((roof for word, roof in ROOF_WORDS.items() if _contains(padded, word)), None)


def _detect_roof(padded: str, category: str | None) -> str | None:
    if category is not None and category not in ROOF_CATEGORIES:
        return None
    return roof_in(padded)


def counts(folded: str) -> list[Quantity]:
    """Every "N <noun>" of COUNT_NOUNS in folded text, the noun's count kind as the unit."""
    return [
        Quantity(float(match[1]), COUNT_NOUNS[match[2]] if match[2] else "inputs")
        for match in _COUNT_RE.finditer(folded)
    ]


def kinds(padded: str, category: str | None) -> tuple[str, ...]:
    words = KIND_WORDS | MODULE_KIND_WORDS if category == "module" else KIND_WORDS
    return tuple(dict.fromkeys(kind for word, kind in words.items() if _contains(padded, word)))


def _stated_sizes(found: list[Quantity]) -> tuple[Quantity, ...]:
    """The sizes in TITLE_SIZE_UNITS, plus a battery's capacity from its amp-hours at the voltage stated
    ("48v 100ah" is 4.8 kWh) when the query gives no energy."""
    sizes = [q for q in found if q.unit in TITLE_SIZE_UNITS]
    amp_hours = next((q.value for q in found if q.unit == "ah"), None)
    volts = next((q.value for q in found if q.unit == "v"), None)
    if amp_hours is not None and volts is not None and not any(q.unit == "wh" for q in sizes):
        sizes.append(Quantity(amp_hours * volts, "wh"))
    return tuple(sizes)


def _payload_filter(
    category: str | None,
    brand: str | None,
    power_range: tuple[float | None, float | None] | None,
    in_stock: bool | None,
) -> PayloadFilter:
    equals: dict[str, str | int | bool] = {}
    if category is not None:
        equals["category"] = category
    if brand is not None:
        equals["brand"] = brand
    if in_stock is not None:
        equals["in_stock"] = in_stock
    return PayloadFilter(equals=equals, ranges={"power_w": power_range} if power_range else {})


def plan_query(
    params: SearchParams, known_brands: Collection[str], *, power_tolerance: float = POWER_TOLERANCE
) -> QueryPlan:
    """Assumes `validate_params` passed. `known_brands` are the payload's brand values (a facet)."""
    brand_phrases = _brand_phrases(frozenset(known_brands))
    folded = fold(params.q)
    typed = _padded_words(folded)
    padded = _corrected(typed, _vocabulary(brand_phrases))
    category = params.category or _detect_category(padded)
    if params.brand is not None:
        folded_brand = " ".join(_ALNUM_RE.findall(fold(params.brand)))
        brand: str | None = dict(brand_phrases).get(folded_brand, params.brand)
    else:
        brand = _detect_brand(padded, brand_phrases)

    found = quantities(_SPELLED_UNIT_RE.sub(r"\1 m", folded))
    target_power_w = next((q.value for q in found if q.unit == "w"), None)
    if category is not None and category not in POWER_CATEGORIES:
        target_power_w = None
    sizes = _stated_sizes(found) + tuple(counts(folded))
    capacity_wh = next((q.value for q in sizes if q.unit == "wh"), None)
    filter_brand = brand if params.brand is not None or category not in BRAND_IN_TITLE_CATEGORIES else None

    explicit_power = (
        (params.min_power_w, params.max_power_w)
        if params.min_power_w is not None or params.max_power_w is not None
        else None
    )
    text_power = (
        (target_power_w * (1 - power_tolerance), target_power_w * (1 + power_tolerance))
        if target_power_w is not None
        else None
    )
    in_stock = params.in_stock
    if in_stock is None and any(_contains(padded, phrase) for phrase in IN_STOCK_PHRASES):
        in_stock = True

    narrow_filters = (
        tuple(
            _payload_filter(
                category, filter_brand, (target_power_w * (1 - w), target_power_w * (1 + w)), in_stock
            )
            for w in NARROW_POWER_WINDOWS
            if w < power_tolerance
        )
        if target_power_w is not None and explicit_power is None
        else ()
    )
    roof_type = _detect_roof(padded, category)
    # Products spell their roof as ROOF_WORDS' values ("Telhado Cerâmico"): a query that names it by its
    # material ("telha de barro") matches them on that word too.
    sparse = lexical_vector(params.q if roof_type is None else f"{params.q} {roof_type}")
    return QueryPlan(
        dense_text=" ".join(params.q.split()),
        sparse=sparse if sparse.indices else None,
        filter=_payload_filter(category, filter_brand, explicit_power or text_power, in_stock),
        explicit_filter=_payload_filter(
            params.category, brand if params.brand is not None else None, explicit_power, params.in_stock
        ),
        limit=params.limit,
        category=category,
        brand=brand,
        target_power_w=target_power_w,
        power_tolerance=power_tolerance,
        phases=_detect_phases(padded, category),
        capacity_kwh=capacity_wh / 1000 if capacity_wh is not None else None,
        folded_words=f" {' '.join(_WORD_RE.findall(folded))} ",
        narrow_filters=narrow_filters,
        read_as=padded.strip() if padded != typed else None,
        sizes=sizes,
        roof_type=roof_type,
        kinds=kinds(padded, category),
    )
