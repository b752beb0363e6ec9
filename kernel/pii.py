"""Redaction of personal data (LGPD, DOMAIN.md §7) before a question, history or context leaves for a
third-party service, and before a log line is written (`common/logs.py`).

What is caught, and how sure it is:
- CPF and CNPJ: formatted ones (`529.982.247-25`, `11.222.333/0001-81`, also the alphanumeric CNPJ) and
  any number after a "CPF"/"CNPJ" cue always; a bare run of 11 or 14 digits only when its check digits
  are valid, so arbitrary long numbers (serials, codes) stay.
- e-mail addresses; Brazilian phones written as phones (`+55 …`, `(11) 98888-7777`, `11 3333-4444`,
  `98888-7777`, or 11 bare digits shaped like a mobile); CEPs (`01310-100`, or 8 digits after "CEP").
- street addresses: a street word (Rua, Av., Avenida, Travessa, Alameda, Rodovia, Estrada, Praça…) up to
  its number and complement (apto, sala, bloco…).
- person names, only when a cue introduces them ("meu nome é", "me chamo", "sou o/a", "cliente",
  "Sr./Sra./Dr./Dra.", "nome:") and the words are capitalised. A bare name with no cue is NOT found:
  this is cue-based, not named-entity recognition.
- in a context dict, the whole value of a personal key (`nome`, `email`, `cpf`, `endereco`…).

Technical figures ("550 W", "5 kWp", "R$ 12.345,67", model codes, years, SKUs) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from kernel.text import fold

PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "cnpj": "[CNPJ]",
    "cpf": "[CPF]",
    "telefone": "[TELEFONE]",
    "cep": "[CEP]",
    "endereco": "[ENDERECO]",
    "nome": "[NOME]",
    "documento": "[DOCUMENTO]",  # a context value under a key that may hold either a CPF or a CNPJ
}

_CNPJ_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_UPPER = "A-ZÀ-ÖØ-Ý"
_LOWER = "a-zß-öø-ÿ"
_NAME_WORD = rf"[{_UPPER}][{_LOWER}'’]+"
_NAME = rf"{_NAME_WORD}(?:\s+(?:d[aeo]s?\s+|e\s+)?{_NAME_WORD}){{0,4}}"
_STREET = r"rua|r\.|avenida|av\.?|travessa|tv\.|alameda|al\.|rodovia|rod\.|estrada|estr\.|pra[çc]a"
_NUMBER_MARK = r"(?:n[º°o]\.?|n[uú]mero|km)"
_COMPLEMENT = (
    r"(?:\s*[,-]?\s*(?:apto?\.?|apartamento|sala|sl\.|bloco|bl\.|casa|conjunto|cj\.|lote|quadra|qd\.|"
    r"andar|km)\s*[\w-]+)*"
)


def valid_cpf(text: str) -> bool:
    """True for 11 digits (punctuation ignored) whose two check digits agree; repeated digits are not."""
    digits = [int(char) for char in re.sub(r"\D", "", text)]
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    for size in (9, 10):
        total = sum(
            digit * weight for digit, weight in zip(digits[:size], range(size + 1, 1, -1), strict=True)
        )
        if (total * 10 % 11) % 10 != digits[size]:
            return False
    return True


def valid_cnpj(text: str) -> bool:
    """True for a 14-character CNPJ (numeric or the alphanumeric kind) whose two check digits agree."""
    chars = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    if len(chars) != 14 or not chars[12:].isdigit() or len(set(chars)) == 1:
        return False
    values = [ord(char) - 48 for char in chars]
    for size in (12, 13):
        total = sum(
            value * weight for value, weight in zip(values[:size], _CNPJ_WEIGHTS[13 - size :], strict=True)
        )
        remainder = total % 11
        if (0 if remainder < 2 else 11 - remainder) != values[size]:
            return False
    return True


@dataclass(frozen=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    accept: Callable[[str], bool] | None = None  # checks the matched value; None accepts every match


def _rule(kind: str, pattern: str, accept: Callable[[str], bool] | None = None) -> _Rule:
    return _Rule(kind, re.compile(pattern), accept)


# Applied in this order, each to the text the previous ones left; a rule with a `pii` group replaces only
# that group, keeping its cue ("CPF: [CPF]", "meu nome é [NOME]").
_RULES: tuple[_Rule, ...] = (
    _rule("email", r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    _rule("cnpj", r"(?i:\bcnpj)\s*(?:n[º°o]\.?)?\s*[:=-]?\s*(?P<pii>[0-9A-Z][0-9A-Z./-]{12,18}\d)\b"),
    _rule("cnpj", r"(?<![\w./-])[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-\d{2}(?![\w/])"),
    _rule("cnpj", r"(?<![\w.,/-])\d{14}(?![\w,/-]|\.\d)", valid_cnpj),
    _rule("cpf", r"(?i:\bcpf)\s*(?:n[º°o]\.?)?\s*[:=-]?\s*(?P<pii>\d[\d.-]{9,12}\d)\b"),
    _rule("cpf", r"(?<![\w.,/-])(?:\d{3}\.\d{3}\.\d{3}|\d{9})-\d{2}(?![\w/-])"),
    _rule("cpf", r"(?<![\w.,/-])\d{11}(?![\w,/-]|\.\d)", valid_cpf),
    _rule(
        "telefone",
        r"(?<![\w+])(?:"
        r"\+\s?55[\s.-]?(?:\(\s?[1-9]{2}\s?\)|[1-9]{2})[\s.-]?(?:9[\s.]?)?\d{4}[\s.-]?\d{4}"
        r"|\(\s?[1-9]{2}\s?\)\s?(?:9[\s.]?)?\d{4}[\s.-]?\d{4}"
        r"|[1-9]{2}\s(?:9\s?)?\d{4}-\d{4}"
        r"|9\d{4}-\d{4}"
        r"|[1-9]{2}9\d{8}"
        r")(?![\w-])",
    ),
    _rule("cep", r"(?i:\bcep)\s*[:=-]?\s*(?P<pii>\d{2}\.?\d{3}-?\d{3})\b"),
    _rule("cep", r"(?<![\w.,/-])\d{5}-\d{3}(?![\w/-])"),
    # Any case when a comma or "nº" leads to the number; without one, only a capitalised street word.
    _rule(
        "endereco",
        rf"(?i:\b(?:{_STREET}))\s+[^\W_][^\n,;:()]{{0,60}}?(?:\s*,\s*{_NUMBER_MARK}?|\s+{_NUMBER_MARK})"
        rf"\s*\d{{1,5}}[A-Za-z]?\b{_COMPLEMENT}",
    ),
    _rule(
        "endereco",
        rf"\b(?:Rua|R\.|Avenida|Av\.|Travessa|Alameda|Rodovia|Estrada|Praça|Largo)\s+"
        rf"(?:(?:[{_UPPER}0-9][\w.]*|d[aeo]s?|de)\s+){{1,6}}\d{{1,5}}\b{_COMPLEMENT}",
    ),
    _rule(
        "nome",
        rf"(?i:\b(?:meu\s+nome\s+[eé]|me\s+chamo|sou\s+[oa]|nome\s*:|cliente|"
        rf"sr\.?|sra\.?|srta\.?|dr\.?|dra\.?|senhor|senhora))\s+(?P<pii>{_NAME})",
    ),
)

# Context keys whose whole value is personal, whatever it looks like (folded, `-`/space read as `_`).
PERSONAL_KEYS: dict[str, str] = {
    **dict.fromkeys(
        [
            "nome",
            "name",
            "full_name",
            "nome_completo",
            "cliente",
            "customer",
            "customer_name",
            "razao_social",
        ],
        "nome",
    ),
    **dict.fromkeys(["email", "e_mail"], "email"),
    **dict.fromkeys(["telefone", "phone", "celular", "whatsapp", "fone"], "telefone"),
    **dict.fromkeys(["cpf"], "cpf"),
    **dict.fromkeys(["cnpj"], "cnpj"),
    **dict.fromkeys(["cpf_cnpj", "documento", "document"], "documento"),
    **dict.fromkeys(["cep", "zip", "postal_code"], "cep"),
    **dict.fromkeys(["endereco", "address", "logradouro", "rua"], "endereco"),
}


@dataclass(frozen=True)
class Redaction:
    """The text with personal data replaced, and what was replaced as (kind, placeholder), in rule order."""

    text: str
    found: tuple[tuple[str, str], ...]


def redact(text: str) -> Redaction:
    found: list[tuple[str, str]] = []
    for rule in _RULES:
        text = rule.pattern.sub(partial(_replace, rule=rule, found=found), text)
    return Redaction(text, tuple(found))


def _replace(match: re.Match[str], rule: _Rule, found: list[tuple[str, str]]) -> str:
    group = "pii" if "pii" in rule.pattern.groupindex else 0
    if rule.accept is not None and not rule.accept(match.group(group)):
        return match.group(0)
    placeholder = PLACEHOLDERS[rule.kind]
    found.append((rule.kind, placeholder))
    start, end = match.span(group)
    whole = match.group(0)
    return whole[: start - match.start()] + placeholder + whole[end - match.start() :]


def redact_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chat turns ({role, content, …}) with their string `content` redacted; other fields as given."""
    return [
        {**message, "content": redact(message["content"]).text}
        if isinstance(message.get("content"), str)
        else dict(message)
        for message in messages
    ]


def redact_context(value: Any, key: str | None = None) -> Any:
    """A JSON-like value with every string redacted, recursively; the whole value (or each item of a list)
    under a personal key replaced. `key` is the dict key holding `value`, when there is one."""
    kind = PERSONAL_KEYS.get(_key(key)) if key is not None else None
    if kind is not None and isinstance(value, str | int | float) and not isinstance(value, bool):
        return PLACEHOLDERS[kind]
    if isinstance(value, str):
        return redact(value).text
    if isinstance(value, Mapping):
        return {name: redact_context(item, str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_context(item, key) for item in value]
    return value


def _key(key: str) -> str:
    return re.sub(r"[\s-]+", "_", fold(key))
