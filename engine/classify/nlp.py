"""The spaCy pipeline Tidal tokenises with: blank English plus the lookup lemmatizer.

No model download is needed: the lemma tables come from `spacy-lookups-data`. Building
the pipeline costs a few hundred milliseconds, so it is made once per process.
"""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language


@lru_cache(maxsize=1)
def english() -> Language:
    """The shared blank English pipeline with a lookup lemmatizer (initialised)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp
