"""clapemo.loss and clapemo.model: hand-checked cases, symmetry, identity, the MS-CLAP formula."""

import math

import pytest
import torch
import torch.nn.functional as F

from clapemo.errors import ParameterError
from clapemo.loss import clip_loss, multi_positive_loss, multi_positive_targets
from clapemo.model import LOGIT_SCALE_INIT, LOGIT_SCALE_MAX, CLAPHead, Projection


def test_clip_loss_hand_checked_2x2():
    # logits_per_audio = [[2, 0], [1, 0]] (not symmetric), logits_per_text its transpose [[2, 1], [0, 0]].
    # audio rows:  -log softmax([2,0])[0] = log(1+e^-2);  -log softmax([1,0])[1] = log(1+e)
    # text rows:   -log softmax([2,1])[0] = log(1+e^-1);  -log softmax([0,0])[1] = log 2
    lpa = torch.tensor([[2.0, 0.0], [1.0, 0.0]])
    expected = ((math.log1p(math.exp(-2)) + math.log1p(math.e)) / 2
                + (math.log1p(math.exp(-1)) + math.log(2)) / 2) / 2
    assert clip_loss(lpa, lpa.T).item() == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(0.6116497, abs=1e-6)


def test_clip_loss_is_symmetric_in_audio_and_text():
    torch.manual_seed(0)
    lpa = torch.randn(5, 5)
    assert clip_loss(lpa, lpa.T).item() == pytest.approx(clip_loss(lpa.T, lpa).item(), abs=1e-6)


def test_identity_alignment_is_the_minimum():
    n = 4
    eye = torch.eye(n)
    scale = 100.0
    perfect = clip_loss(scale * eye, scale * eye).item()
    assert perfect == pytest.approx(0.0, abs=1e-6)
    torch.manual_seed(1)
    for _ in range(20):  # any other unit-vector geometry at the same scale gives a larger loss
        a = F.normalize(torch.randn(n, 8), dim=1)
        t = F.normalize(torch.randn(n, 8), dim=1)
        assert clip_loss(scale * a @ t.T, scale * t @ a.T).item() > perfect
    # a wrong matching (permutation) is much worse
    perm = eye[[1, 0, 3, 2]]
    assert clip_loss(scale * perm, scale * perm.T).item() > 10


def test_multi_positive_equals_clip_when_texts_distinct():
    torch.manual_seed(2)
    lpa = torch.randn(6, 6)
    ids = torch.arange(6)
    assert multi_positive_loss(lpa, lpa.T, ids).item() == pytest.approx(clip_loss(lpa, lpa.T).item(), abs=1e-6)


def test_multi_positive_targets_and_duplicate_texts():
    ids = torch.tensor([0, 1, 0, 2])
    t = multi_positive_targets(ids)
    assert torch.allclose(t.sum(1), torch.ones(4))
    assert torch.allclose(t[0], torch.tensor([0.5, 0.0, 0.5, 0.0]))
    assert torch.equal(t, t.T)
    # Audios 0 and 2 share text "0". When the duplicated texts have *identical* embeddings (same string, no
    # dropout) their columns are identical and both losses have the same value: -l_S + logsumexp(row).
    a = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [1.0, 0, 0], [0, 0, 1.0]])
    lpa = 50 * a @ a.T  # text embedding == audio embedding
    assert multi_positive_loss(lpa, lpa.T, ids).item() == pytest.approx(clip_loss(lpa, lpa.T).item(), abs=1e-5)
    assert clip_loss(lpa, lpa.T).item() == pytest.approx(2 * math.log(2) / 4, abs=1e-4)  # log 2 on 2 of 4 rows
    # When the duplicates differ (dropout noise, or a perturbed copy), the plain loss treats the other copy as
    # a negative; the multi-positive loss does not. 2x2, both texts identical, logits_per_audio = [[1, 3], [0, 0]]:
    lpa = torch.tensor([[1.0, 3.0], [0.0, 0.0]])
    lse = 3 + math.log1p(math.exp(-2))  # logsumexp(1, 3)
    # audio rows: [1, 3] -> target 0 (plain) / 0.5-0.5 (multi); [0, 0] -> log 2 either way
    # text rows (transpose): [1, 0] -> target 0 / 0.5-0.5; [3, 0] -> target 1 / 0.5-0.5
    plain = (((lse - 1) + math.log(2)) / 2 + ((math.log(math.e + 1) - 1) + math.log(math.e ** 3 + 1)) / 2) / 2
    multi = (((lse - 2) + math.log(2)) / 2
             + ((math.log(math.e + 1) - 0.5) + (math.log(math.e ** 3 + 1) - 1.5)) / 2) / 2
    assert clip_loss(lpa, lpa.T).item() == pytest.approx(plain, abs=1e-5)
    assert multi_positive_loss(lpa, lpa.T, torch.tensor([7, 7])).item() == pytest.approx(multi, abs=1e-5)
    assert multi < plain


def test_loss_rejects_bad_shapes():
    with pytest.raises(ParameterError, match="square"):
        clip_loss(torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(ParameterError, match="text_ids"):
        multi_positive_loss(torch.zeros(3, 3), torch.zeros(3, 3), torch.arange(2))


def test_projection_follows_ms_clap_formula():
    torch.manual_seed(3)
    proj = Projection(7, 5, dropout=0.5).eval()
    x = torch.randn(4, 7)
    e1 = x @ proj.linear1.weight.T
    e2 = F.gelu(e1) @ proj.linear2.weight.T
    expected = F.layer_norm(e1 + e2, (5,), proj.layer_norm.weight, proj.layer_norm.bias)
    assert torch.allclose(proj(x), expected, atol=1e-6)
    assert proj.linear1.bias is None and proj.linear2.bias is None


def test_head_shapes_normalisation_and_scale():
    torch.manual_seed(4)
    head = CLAPHead(6, 3, projection_dim=8, dropout=0.0)
    assert head.logit_scale.item() == pytest.approx(LOGIT_SCALE_INIT)
    assert head.scale().item() == pytest.approx(1 / 0.07, rel=1e-5)
    a, t = torch.randn(5, 6), torch.randn(4, 3)
    lpa, lpt = head(a, t)
    assert lpa.shape == (5, 4) and torch.equal(lpt, lpa.T)
    assert torch.allclose(head.project_audio(a).norm(dim=1), torch.ones(5), atol=1e-5)
    assert lpa.abs().max().item() <= head.scale().item() + 1e-4
    with torch.no_grad():
        head.logit_scale.fill_(10.0)
    assert head.scale().item() == pytest.approx(100.0, rel=1e-5)  # clamped at ln(100)
    assert LOGIT_SCALE_MAX == pytest.approx(math.log(100))
    with pytest.raises(ParameterError, match=r"audio_emb must have shape \(N, 6\)"):
        head.project_audio(torch.randn(2, 5))


def test_pair_logits_projects_distinct_rows_once_with_the_same_values():
    torch.manual_seed(3)
    head = CLAPHead(6, 5, projection_dim=8, dropout=0.5).eval()
    audio, text = torch.randn(4, 6), torch.randn(3, 5)
    audio_ids, text_ids = torch.tensor([0, 2, 2, 1, 3, 0]), torch.tensor([1, 1, 0, 2, 1, 0])
    lpa, lpt = head.pair_logits(audio, text, audio_ids, text_ids)
    ref_a, ref_t = head(audio[audio_ids], text[text_ids])
    assert lpa.shape == (6, 6) and torch.equal(lpt, lpa.T)
    assert torch.allclose(lpa, ref_a, atol=1e-6)
    assert clip_loss(lpa, lpt).item() == pytest.approx(clip_loss(ref_a, ref_t).item(), abs=1e-6)
    assert multi_positive_loss(lpa, lpt, text_ids).item() == pytest.approx(
        multi_positive_loss(ref_a, ref_t, text_ids).item(), abs=1e-6)
    with pytest.raises(ParameterError, match="audio_ids and text_ids"):
        head.pair_logits(audio, text, audio_ids, text_ids[:3])
