"""edudial's shared core: the corpus schema, I/O and the ``edudial`` command line.

>>> from toolkit import Corpus, read_corpus
"""

from toolkit.deid import deidentify, is_deidentified
from toolkit.errors import EdudialError, InputError, SchemaError
from toolkit.io import read_annotations, read_corpus, save_corpus, to_hf
from toolkit.schema import (
    ANNOTATION_COLUMNS,
    DIALOGUE_COLUMNS,
    RATER_KINDS,
    ROLES,
    TURN_COLUMNS,
    Corpus,
    Dialogue,
    meta_values,
)

__version__ = "0.1.0"

__all__ = [
    "ANNOTATION_COLUMNS",
    "DIALOGUE_COLUMNS",
    "RATER_KINDS",
    "ROLES",
    "TURN_COLUMNS",
    "Corpus",
    "Dialogue",
    "EdudialError",
    "InputError",
    "SchemaError",
    "__version__",
    "deidentify",
    "is_deidentified",
    "meta_values",
    "read_annotations",
    "read_corpus",
    "save_corpus",
    "to_hf",
]
