"""Everything Kairan prints: PDFs drawn with reportlab, Japanese fonts embedded. No Qt here."""
