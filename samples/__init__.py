"""Development data: the sample distributor feeds (`feeds`) and homologação cases (`homologacao_cases`) that
`make run` and the tests load. Tooling, not product: no product package imports it (make lint)."""
