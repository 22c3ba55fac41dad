"""Everything that becomes paper or a file (PDF, xlsx). No Qt here."""
