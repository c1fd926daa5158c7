"""The canonical emotion vocabulary, each corpus's label set (the paper's Table 1) and the prompt words.

Every corpus loader maps its raw labels onto :data:`EMOTIONS`; ``raw_label`` keeps the original.
"""

from __future__ import annotations

__all__ = ["EMOTIONS", "CORPUS_LABELS", "PROMPT_WORDS", "EMOTION_CORPORA", "CAPTION_CORPORA"]

#: canonical labels, in a fixed order used for confusion matrices and tables
EMOTIONS: tuple[str, ...] = (
    "neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised",
    "excited", "frustrated", "disappointed", "positive", "negative",
)

#: label set of each emotion corpus as in the paper's Table 1 (canonical names); the synthetic twins use these.
#: Two differ from what the real corpora's files hold: Table 1 lists "disappoint" for IEMOCAP, whose raw code
#: ``dis`` is documented as *disgust* (the real loader maps it so), and real CMU-MOSEI annotates 6 emotions (the
#: loader yields 7 classes with neutral), not the 9 of Table 1.
CORPUS_LABELS: dict[str, tuple[str, ...]] = {
    "mosei": ("angry", "excited", "fearful", "sad", "frustrated", "neutral", "surprised", "happy", "disgust"),
    "iemocap": ("happy", "fearful", "sad", "surprised", "excited", "angry", "neutral", "disappointed",
                "frustrated"),
    "meld": ("neutral", "surprised", "fearful", "sad", "happy", "disgust", "angry"),
    "cremad": ("angry", "disgust", "fearful", "happy", "neutral", "sad"),
    "ravdess": ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"),
    "mosi": ("neutral", "positive", "negative"),
}

#: the six emotion corpora ("ED") and the four captioning sets ("4D") of the paper
EMOTION_CORPORA: tuple[str, ...] = ("mosei", "iemocap", "meld", "cremad", "ravdess", "mosi")
CAPTION_CORPORA: tuple[str, ...] = ("clotho", "audiocaps", "macs", "fsd50k")

#: the word each canonical label takes in a prompt ("low pitch anger"); configurable via prompts.emotion_words
PROMPT_WORDS: dict[str, str] = {
    "neutral": "neutral", "calm": "calm", "happy": "happy", "sad": "sad", "angry": "anger",
    "fearful": "fear", "disgust": "disgust", "surprised": "surprise", "excited": "excited",
    "frustrated": "frustration", "disappointed": "disappointment", "positive": "positive", "negative": "negative",
}

assert set(PROMPT_WORDS) == set(EMOTIONS)  # internal consistency of this module, not user input
assert all(set(labels) <= set(EMOTIONS) for labels in CORPUS_LABELS.values())
