"""The whole association out and back: a bundle of open files (JSON, xlsx, PDF) that outlives
any officer, and its import into an empty Kairan file.

``format`` fixes what a bundle is (layout, manifest, how each column type is written),
``export`` writes one from an open file, ``restore`` checks one and reads it back into a new
file, ``documents`` adds the PDFs and ``readme`` the description of the format. No Qt here.
"""

from __future__ import annotations
