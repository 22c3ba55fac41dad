"""The association file on disk: engine, opening checks, migrations and backups. No Qt here."""
