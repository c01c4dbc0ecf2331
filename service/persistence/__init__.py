"""Durable state: the SQL schema, the store that writes engine changes, and restore."""
