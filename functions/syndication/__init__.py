"""Syndication to partners: IPTC ninjs 2.0 items and Standard Webhooks signing (pure functions)."""
