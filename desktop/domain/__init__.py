"""What an association is and its rules: tables, services and checks. No Qt here."""
