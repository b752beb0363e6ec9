"""Locust users of the store: search most, then recommend, then ask — the mix of a storefront.

Run through `python -m scripts.loadtest` (headless, bounded, 127.0.0.1 only). Each simulated customer
sends its own `X-Forwarded-For`, so the API's per-client rate applies per customer as behind a proxy
(the API trusts loopback peers' header by default); a 429 counts as a failure like any other error.
"""

from __future__ import annotations

import itertools
import random

from locust import HttpUser, between, task

SEARCHES = ["painel 550W", "inversor 5 kW", "inversor growatt", "bateria lítio", "microinversor",
            "kit fotovoltaico 4 kWp", "estrutura telhado cerâmico", "cabo solar 6mm", "string box",
            "painel canadian em estoque"]  # fmt: skip
PLACES = [("São Paulo", "SP"), ("Belo Horizonte", "MG"), ("Fortaleza", "CE"), ("Porto Alegre", "RS"),
          ("Salvador", "BA"), ("Curitiba", "PR")]  # fmt: skip
QUESTIONS = ["Vocês têm inversor de 5 kW?", "Quanto tempo valem os créditos de energia excedente?",
             "Qual o preço do painel de 550 W?", "Como funciona a cobrança do Fio B?"]  # fmt: skip
_customers = itertools.count(1)


class StoreCustomer(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        number = next(_customers)
        self.client.headers["X-Forwarded-For"] = (
            f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
        )

    @task(6)
    def search(self) -> None:
        self.client.get(
            "/store/helio/search", params={"q": random.choice(SEARCHES), "limit": 10}, name="search"
        )

    @task(2)
    def recommend(self) -> None:
        city, uf = random.choice(PLACES)
        body = {"consumption_kwh_month": random.choice([300, 500, 900, 1500]), "city": city, "uf": uf,
                "connection": random.choice(["mono", "bi", "tri"])}  # fmt: skip
        self.client.post("/store/helio/recommend", json=body, name="recommend")

    @task(1)
    def ask(self) -> None:
        self.client.post("/store/helio/ask", json={"question": random.choice(QUESTIONS)}, name="ask")
