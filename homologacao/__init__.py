"""Homologação checks, pure: a grid-connection case, its rules and the fields read from its documents."""
