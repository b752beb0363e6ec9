"""Redaction of personal data: what is replaced, what technical text is left alone, and the helpers for
chat turns and context dicts. 529.982.247-25 and 11.222.333/0001-81 have valid check digits."""

from __future__ import annotations

from typing import Any

import pytest

from kernel.pii import redact, redact_context, redact_messages, valid_cnpj, valid_cpf


@pytest.mark.parametrize(
    ("text", "expected", "kinds"),
    [
        # CPF: formatted always, after a cue always, bare only with valid check digits
        ("Meu CPF é 529.982.247-25.", "Meu CPF é [CPF].", ["cpf"]),
        ("documento 111.444.777-35 do titular", "documento [CPF] do titular", ["cpf"]),
        ("cpf: 12345678900", "cpf: [CPF]", ["cpf"]),
        ("CPF nº 123.456.789-00 (digitado errado)", "CPF nº [CPF] (digitado errado)", ["cpf"]),
        ("o número 52998224725 está no contrato", "o número [CPF] está no contrato", ["cpf"]),
        ("consta 529982247-25 na ficha", "consta [CPF] na ficha", ["cpf"]),
        # CNPJ: formatted (also alphanumeric), after a cue, bare valid
        ("empresa 11.222.333/0001-81", "empresa [CNPJ]", ["cnpj"]),
        ("CNPJ 11222333000181", "CNPJ [CNPJ]", ["cnpj"]),
        ("faturar para 11222333000181", "faturar para [CNPJ]", ["cnpj"]),
        ("CNPJ: 12.ABC.345/01DE-35", "CNPJ: [CNPJ]", ["cnpj"]),
        # e-mail
        ("mande para joao.silva+solar@gmail.com hoje", "mande para [EMAIL] hoje", ["email"]),
        ("contato: vendas@integradora-sol.com.br", "contato: [EMAIL]", ["email"]),
        # phones
        ("ligue (11) 98888-7777", "ligue [TELEFONE]", ["telefone"]),
        ("whats +55 11 98888-7777", "whats [TELEFONE]", ["telefone"]),
        ("+5511988887777 é o celular", "[TELEFONE] é o celular", ["telefone"]),
        ("fixo 11 3333-4444", "fixo [TELEFONE]", ["telefone"]),
        ("fone (21)2555-1234 comercial", "fone [TELEFONE] comercial", ["telefone"]),
        ("meu número é 98888-7777", "meu número é [TELEFONE]", ["telefone"]),
        ("celular 11988887777", "celular [TELEFONE]", ["telefone"]),
        ("tel 11 9 8888-7777", "tel [TELEFONE]", ["telefone"]),
        # CEP
        ("CEP 01310-100", "CEP [CEP]", ["cep"]),
        ("cep: 01310100", "cep: [CEP]", ["cep"]),
        ("entrega em 13083-970, Campinas", "entrega em [CEP], Campinas", ["cep"]),
        # addresses, up to the number and complement
        ("instalar na Rua das Flores, 123, apto 45 amanhã", "instalar na [ENDERECO] amanhã", ["endereco"]),
        ("Av. Paulista 1000 sala 3", "[ENDERECO]", ["endereco"]),
        ("fica na avenida brasil, nº 55", "fica na [ENDERECO]", ["endereco"]),
        ("Travessa São José, 12 - casa 2, fundos", "[ENDERECO], fundos", ["endereco"]),
        ("sítio na Estrada do Campo Limpo, km 12", "sítio na [ENDERECO]", ["endereco"]),
        ("Alameda Santos, 200", "[ENDERECO]", ["endereco"]),
        ("Rodovia BR-116, km 20", "[ENDERECO]", ["endereco"]),
        # names, only after a cue and capitalised
        ("Meu nome é João da Silva e quero um kit", "Meu nome é [NOME] e quero um kit", ["nome"]),
        ("me chamo Ana Paula", "me chamo [NOME]", ["nome"]),
        ("Sou a Maria, integradora", "Sou a [NOME], integradora", ["nome"]),
        ("a cliente Fernanda Souza pediu orçamento", "a cliente [NOME] pediu orçamento", ["nome"]),
        ("falar com o Sr. Carlos Alberto", "falar com o Sr. [NOME]", ["nome"]),
        ("Dra. Lúcia Helena assina", "Dra. [NOME] assina", ["nome"]),
        ("nome: José Ávila", "nome: [NOME]", ["nome"]),
        # several kinds in one text, reported in rule order
        (
            "Sou o Pedro, CPF 529.982.247-25, e-mail p@x.com, (11) 98888-7777",
            "Sou o [NOME], CPF [CPF], e-mail [EMAIL], [TELEFONE]",
            ["email", "cpf", "telefone", "nome"],
        ),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str, kinds: list[str]) -> None:
    redaction = redact(text)
    assert redaction.text == expected
    assert [kind for kind, _ in redaction.found] == kinds
    assert all(placeholder == f"[{kind.upper()}]" for kind, placeholder in redaction.found)


@pytest.mark.parametrize(
    "text",
    [
        "painel de 550 W monocristalino",
        "sistema de 5 kWp com inversor de 5 kW",
        "o kit sai por R$ 12.345,67 à vista",
        "R$ 1.234.567,89 em 2024",
        "ligação trifásica 380 V, 220 V entre fase e neutro",
        "inversor SUN-5K-G com 2 MPPT",
        "módulo CS6W-550MS da Canadian",
        "SKU GW-5000D-NS-12345",
        "homologação em 2025 pela Lei 14.300/2022",
        "geração de 1500 kWh por mês, 18.000 kWh/ano",
        "código de barras 7891234567895",
        "número de série 12345678901",  # 11 digits, invalid CPF check digits
        "pedido 11111111111",  # repeated digits pass the algorithm but are no CPF
        "protocolo 12345678000100",  # 14 digits, invalid CNPJ check digits
        "a rua tem 3 postes até o padrão",
        "string de 12 módulos, Voc 49,5 V a -10 °C",
        "sou o instalador responsável",
        "o cliente quer saber o payback",
        "REN 1000 da ANEEL, art. 26",
        "tarifa de 0,95 R$/kWh e 30 % do Fio B",
        "estrutura para telhado cerâmico, 4 trilhos de 4,2 m",
        "Canadian Solar HiKu7 665 W bifacial",
        "trilho mais largo de alumínio, 40 mm",
        "Largo da Batata",  # a square's name without a number is no address
    ],
)
def test_technical_text_is_left_alone(text: str) -> None:
    assert redact(text).text == text
    assert redact(text).found == ()


@pytest.mark.parametrize(
    ("number", "cpf", "cnpj"),
    [
        ("529.982.247-25", True, False),
        ("52998224725", True, False),
        ("529.982.247-26", False, False),
        ("000.000.000-00", False, False),
        ("11.222.333/0001-81", False, True),
        ("11222333000182", False, False),
        ("12.ABC.345/01DE-35", False, True),
        ("12.ABC.345/01DE-36", False, False),
        ("123", False, False),
    ],
)
def test_check_digits(number: str, cpf: bool, cnpj: bool) -> None:
    assert (valid_cpf(number), valid_cnpj(number)) == (cpf, cnpj)


def test_messages_keep_roles_and_redact_content() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "meu e-mail é a@b.com"},
        {"role": "assistant", "content": "Anotado."},
        {"role": "tool", "content": None, "name": "sizing"},
    ]
    assert redact_messages(messages) == [
        {"role": "user", "content": "meu e-mail é [EMAIL]"},
        {"role": "assistant", "content": "Anotado."},
        {"role": "tool", "content": None, "name": "sizing"},
    ]
    assert messages[0]["content"] == "meu e-mail é a@b.com"  # the input is not changed


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"nome": "João Silva", "cidade": "Campinas"}, {"nome": "[NOME]", "cidade": "Campinas"}),
        ({"Customer-Name": "Ana"}, {"Customer-Name": "[NOME]"}),
        ({"cpf": 52998224725}, {"cpf": "[CPF]"}),
        ({"cpf_cnpj": "12345"}, {"cpf_cnpj": "[DOCUMENTO]"}),
        ({"telefone": ["11 98888-7777", "21 3333-4444"]}, {"telefone": ["[TELEFONE]", "[TELEFONE]"]}),
        (
            {"cliente": {"endereço": "Rua A, 1", "consumo_kwh": 450, "uf": "SP"}},
            {"cliente": {"endereço": "[ENDERECO]", "consumo_kwh": 450, "uf": "SP"}},
        ),
        (
            {"notes": ["ligar para (11) 98888-7777", 3.5, None]},
            {"notes": ["ligar para [TELEFONE]", 3.5, None]},
        ),
        (
            {"product": {"model": "SUN-5K-G", "power_w": 5000}},
            {"product": {"model": "SUN-5K-G", "power_w": 5000}},
        ),
        ({"email": None, "has_battery": True}, {"email": None, "has_battery": True}),
        ("CEP 01310-100", "CEP [CEP]"),
    ],
)
def test_context_is_redacted_recursively(context: Any, expected: Any) -> None:
    assert redact_context(context) == expected
