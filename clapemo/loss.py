"""Contrastive losses over an N×N audio–text similarity matrix.

Both losses take the logits the model returns, always in (audio, text) order:
``logits_per_audio[i, j]`` is the scaled cosine similarity of audio ``i`` and text ``j`` and
``logits_per_text = logits_per_audio.T``. Pair ``i`` of a batch is (audio ``i``, text ``i``).

* :func:`clip_loss` is the paper's loss (CLIP / MS-CLAP): symmetric cross-entropy with targets ``arange(N)``.
* :func:`multi_positive_loss` is an option for prompt augmentation, where several clips of one batch carry the
  *same* prompt text ("high pitch anger"): with plain targets each of those duplicates is a negative of the
  others (a false negative), which pushes identical texts apart from audio they describe. Here the target of
  audio ``i`` is spread uniformly over every column whose text equals text ``i`` (and symmetrically for texts).
  With all texts distinct it equals :func:`clip_loss` exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from clapemo.errors import ParameterError

__all__ = ["clip_loss", "multi_positive_loss", "multi_positive_targets"]


def _check_logits(logits_per_audio: torch.Tensor, logits_per_text: torch.Tensor) -> int:
    if logits_per_audio.ndim != 2 or logits_per_audio.shape[0] != logits_per_audio.shape[1]:
        raise ParameterError(
            f"logits_per_audio must be a square (N, N) matrix, got shape {tuple(logits_per_audio.shape)}")
    if logits_per_text.shape != logits_per_audio.shape:
        raise ParameterError(
            f"logits_per_text must have the shape of logits_per_audio {tuple(logits_per_audio.shape)}, "
            f"got {tuple(logits_per_text.shape)}")
    return int(logits_per_audio.shape[0])


def clip_loss(logits_per_audio: torch.Tensor, logits_per_text: torch.Tensor) -> torch.Tensor:
    """Symmetric cross-entropy of CLIP/CLAP: ``(CE(logits_per_audio, arange) + CE(logits_per_text, arange)) / 2``.

    Parameters
    ----------
    logits_per_audio : Tensor, shape (N, N)
        Row ``i``: audio ``i`` against every text of the batch.
    logits_per_text : Tensor, shape (N, N)
        Row ``j``: text ``j`` against every audio (normally ``logits_per_audio.T``).

    Returns
    -------
    Tensor, shape ()
        Mean loss over the batch (natural log units).
    """
    n = _check_logits(logits_per_audio, logits_per_text)
    targets = torch.arange(n, device=logits_per_audio.device)
    return (F.cross_entropy(logits_per_audio, targets) + F.cross_entropy(logits_per_text, targets)) / 2


def multi_positive_targets(text_ids: torch.Tensor) -> torch.Tensor:
    """Soft targets ``T[i, j] = [id_i == id_j] / #{k: id_k == id_i}``; each row sums to 1.

    Parameters
    ----------
    text_ids : Tensor of int, shape (N,)
        Identifier of the text of each pair; equal ids mean identical texts.

    Returns
    -------
    Tensor of float32, shape (N, N); symmetric.
    """
    if text_ids.ndim != 1:
        raise ParameterError(f"text_ids must be 1-D, got shape {tuple(text_ids.shape)}")
    same = (text_ids[:, None] == text_ids[None, :]).float()
    return same / same.sum(dim=1, keepdim=True)


def multi_positive_loss(logits_per_audio: torch.Tensor, logits_per_text: torch.Tensor,
                        text_ids: torch.Tensor) -> torch.Tensor:
    """Symmetric cross-entropy with targets spread over identical texts (no false negatives).

    Audio ``i``'s target distribution is uniform over the columns ``j`` with ``text_ids[j] == text_ids[i]``;
    text ``j``'s target is uniform over the audios whose text is the same. Equals :func:`clip_loss` when all ids
    differ.

    Parameters
    ----------
    logits_per_audio, logits_per_text : Tensor, shape (N, N)
        As for :func:`clip_loss`.
    text_ids : Tensor of int, shape (N,)
        Text identifier of each pair (e.g. the index of the unique prompt string).

    Returns
    -------
    Tensor, shape ()
    """
    n = _check_logits(logits_per_audio, logits_per_text)
    if text_ids.shape != (n,):
        raise ParameterError(f"text_ids must have shape ({n},) to match the logits, got {tuple(text_ids.shape)}")
    targets = multi_positive_targets(text_ids.to(logits_per_audio.device)).to(logits_per_audio.dtype)
    loss_audio = -(targets * F.log_softmax(logits_per_audio, dim=1)).sum(dim=1).mean()
    loss_text = -(targets * F.log_softmax(logits_per_text, dim=1)).sum(dim=1).mean()
    return (loss_audio + loss_text) / 2
