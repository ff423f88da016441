"""Outbound adapters: ClickHouse (server and embedded), email (SendGrid and outbox)."""
