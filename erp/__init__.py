"""The ERP side of the platform, pure: payload records, change events, sync bookkeeping rules."""
