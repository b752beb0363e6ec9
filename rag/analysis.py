"""Portuguese lexical analysis of the knowledge collections: the terms a passage and a question meet on,
and the BM25 weights of the sparse vectors built from them.

A word is folded (case and accents dropped, so "instalação" and "instalacao" are one word), dropped if it
is a stopword, then stemmed with Snowball's Portuguese stemmer ("compensação", "compensada" and
"compensar" → "compens"). Snowball reads some suffixes by their accents (-ção, -ável, -ência), which
people often leave out when typing: the folded word gets those accents back before stemming, and plural
-ões/-éis become the singular, so a question typed either way meets the text. Numbers are one spelling
("14.300" → "14300", "0,5" → "0.5"); words mixing letters and digits (MC4, NBR16690) stay whole.

Weights are BM25's term-frequency half, `tf·(k1+1) / (tf + k1·(1 − b + b·len/AVERAGE_LENGTH))`, on the
document side; the engine's IDF modifier supplies the other half at query time, and a question's terms
weigh 1 each. The length norm uses a fixed average (measured on the shipped corpus) rather than the
collection's, so a passage's vector does not change when other documents come or go.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

from catalog.lexical import term_index
from kernel.numbers import plain_number
from kernel.text import fold
from kernel.vectors import SparseVector

# Stored with every point: a change here re-indexes the knowledge collections' lexical side.
ANALYZER_VERSION = "pt-snowball-bm25-2"
BM25_K1 = 1.2
BM25_B = 0.75
# Terms per chunk after stopwords: the shipped corpus, default chunking (261 chunks, mean 46.8).
AVERAGE_LENGTH = 47.0

# Snowball's Portuguese list, folded, and the trade's and chat's fillers.
_STOPWORD_TEXT = """
a o as os um uma uns umas de da do das dos e em no na nos nas ao aos para pra pro pras pros por pelo pela
pelos pelas com sem que se ou mas como mais menos muito muita muitos muitas ja so nao sim entao tambem
ainda ate apos sobre entre quando onde qual quais quanto quanta quantos quantas quem porque pois isso
isto esse essa esses essas este esta estes estas aquele aquela aqueles aquelas aquilo ele ela eles elas
eu voce voces vc vcs nos meu minha meus minhas seu sua seus suas dele dela deles delas nosso nossa me te
lhe lhes ser sao sou foi foram era eram sera seria estar esta estao estou estava tem tenho tinha ter ha
havia haver fazer faz faco fez pode posso podem poderia preciso precisa devo deve dever vai vou vamos
fica ficam fico ficar da dar tipo coisa gente ai la aqui ali cada mesmo mesma outro outra qualquer
todo toda todos todas algum alguma alguns algumas nenhum nenhuma tudo nada bem bom boa ok oi ola
num numa nuns numas dum duma neste nesta nesse nessa nisso nisto naquele naquela daquele daquela
deste desta desse dessa disso disto depois antes agora hoje dia sempre nunca tal tais
moro chamo email mail
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Folded ending → what the stemmer reads: accents back, plurals it cannot fold made singular.
_ENDINGS = (
    ("coes", "ção"),
    ("cao", "ção"),
    ("soes", "são"),
    ("sao", "são"),
    ("oes", "ão"),
    ("aes", "ão"),
    ("ao", "ão"),
    ("aveis", "ável"),
    ("iveis", "ível"),
    ("avel", "ável"),
    ("ivel", "ível"),
    ("encia", "ência"),
    ("ancia", "ância"),
    ("eis", "el"),
)
# Shorter words keep their ending as typed ("mao", "seis").
_MIN_STEM = 3
# Stems people use for what the documents name otherwise: a "painel" or "placa" is a "módulo".
SYNONYMS = {"painel": "modul", "plac": "modul", "lav": "limp", "limpez": "limp"}
_TOKEN = re.compile(r"[^\W_]+(?:[.,]\d+)*")
_STEMMER = snowballstemmer.stemmer("portuguese")


@lru_cache(maxsize=65536)
def stem(folded_word: str) -> str:
    """The stem of one folded word (no accents, lower case)."""
    word = folded_word
    for ending, restored in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            word = word[: -len(ending)] + restored
            break
    stemmed = fold(_STEMMER.stemWord(word))
    return SYNONYMS.get(stemmed, stemmed)


def terms(text: str) -> list[str]:
    """The analysed terms of a text, in order, repeated as often as they occur."""
    found = []
    for token in _TOKEN.findall(fold(text)):
        if token[0].isdigit() and token.replace(".", "").replace(",", "").isdigit():
            found.append(plain_number(token))
        elif any(char.isdigit() for char in token):
            found.append(token.replace(",", "."))
        elif token not in STOPWORDS:
            found.append(stem(token))
    return found


def query_terms(text: str) -> frozenset[str]:
    return frozenset(terms(text))


def _vector(weights: dict[int, float]) -> SparseVector:
    indices = sorted(weights)
    return SparseVector(indices=indices, values=[round(weights[i], 4) for i in indices])


def _indexed(counts: Iterable[tuple[str, float]]) -> dict[int, float]:
    weights: dict[int, float] = {}
    for term, weight in counts:
        index = term_index(term)
        weights[index] = weights.get(index, 0.0) + weight  # a hash collision merges two terms
    return weights


def document_vector(text: str) -> SparseVector:
    """A passage's sparse vector: BM25-saturated term frequencies, length-normalised."""
    counts = Counter(terms(text))
    norm = BM25_K1 * (1 - BM25_B + BM25_B * sum(counts.values()) / AVERAGE_LENGTH)
    return _vector(_indexed((term, tf * (BM25_K1 + 1) / (tf + norm)) for term, tf in counts.items()))


def query_vector(text: str) -> SparseVector:
    """A question's sparse vector: each distinct term once (the engine multiplies in its IDF)."""
    return _vector(_indexed((term, 1.0) for term in query_terms(text)))
