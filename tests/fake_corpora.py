"""Tiny fake corpora in the official layouts, for tests of ``clapemo.datasets`` (and anyone who needs a real-layout
tree). Every builder writes into ``root`` and returns ``root``; audio is a short sine at the corpus's own rate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_wav", "write_mp4", "write_csd", "make_ravdess", "make_cremad", "make_iemocap", "make_meld",
           "make_mosi", "make_mosei", "make_clotho", "make_audiocaps", "make_macs", "make_fsd50k",
           "make_folder", "RAVDESS_ACTORS", "IEMOCAP_LINES", "MELD_ROWS", "FOLDER_ROWS"]


def tone(duration_s: float, rate_hz: int, *, f0_hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(round(duration_s * rate_hz))) / rate_hz
    return (0.3 * np.sin(2 * np.pi * f0_hz * t)).astype(np.float32)


def write_wav(path: Path, *, duration_s: float = 0.1, rate_hz: int = 16000, channels: int = 1) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    x = tone(duration_s, rate_hz)
    sf.write(str(path), np.stack([x] * channels, axis=1) if channels > 1 else x, rate_hz, subtype="PCM_16")
    return path


def write_mp4(path: Path, *, duration_s: float = 0.3, rate_hz: int = 16000) -> Path:
    """An mp4 with one AAC audio stream, written with PyAV."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    x = tone(duration_s, rate_hz)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate_hz)
        frame = av.AudioFrame.from_ndarray(x[None, :], format="fltp", layout="mono")
        frame.sample_rate = rate_hz
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def write_csd(path: Path, *, sequence: str, data: dict, metadata: dict | None = None) -> Path:
    """A CMU-MultimodalSDK computational sequence: ``<sequence>/data/<vid>/{features,intervals}`` + metadata."""
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as fh:
        top = fh.create_group(sequence)
        group = top.create_group("data")
        for vid, (features, intervals) in data.items():
            g = group.create_group(vid)
            g.create_dataset("features", data=np.asarray(features, dtype=np.float32))
            g.create_dataset("intervals", data=np.asarray(intervals, dtype=np.float32))
        meta = top.create_group("metadata")
        for key, value in (metadata or {"root name": sequence, "dimension names": "fake"}).items():
            meta.create_dataset(key, (1,), dtype=h5py.special_dtype(vlen=str))[0] = str(value)
    return path


# ---- emotion corpora ------------------------------------------------------------------------------------------

#: actors written by make_ravdess: 1 (male, fold 4), 2 (female, fold 0), 3 (male, fold 1)
RAVDESS_ACTORS = (1, 2, 3)


def make_ravdess(root: Path, *, actors=RAVDESS_ACTORS, nested: bool = False) -> Path:
    """Per actor: emotions 01-08 speech (statement 01, rep 01, intensity 01 or 02 for calm..), plus one song file
    and one video file that must be ignored. 8 speech files per actor."""
    base = root / "Audio_Speech_Actors_01-24" if nested else root
    for a in actors:
        d = base / f"Actor_{a:02d}"
        for e in range(1, 9):
            write_wav(d / f"03-01-{e:02d}-{1 if e == 1 else 2:02d}-01-01-{a:02d}.wav", rate_hz=48000)
        write_wav(d / f"03-02-03-01-01-01-{a:02d}.wav", rate_hz=48000)  # song: ignored
        (d / f"01-01-03-01-01-01-{a:02d}.mp4").write_bytes(b"")  # video: ignored
    return root


def make_cremad(root: Path, *, demographics: bool = True) -> Path:
    """Actors 1001 (male) and 1002 (female), 6 emotions each -> 12 clips; folds 0 and 1."""
    for actor in (1001, 1002):
        for emo, level in (("ANG", "HI"), ("DIS", "XX"), ("FEA", "LO"), ("HAP", "MD"), ("NEU", "XX"),
                           ("SAD", "XX")):
            write_wav(root / "AudioWAV" / f"{actor}_DFA_{emo}_{level}.wav")
    if demographics:
        (root / "VideoDemographics.csv").write_text(
            "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n"
            "1002,21,Female,Caucasian,Not Hispanic\n")
    return root


#: (session, dialog, utt, raw label) written by make_iemocap
IEMOCAP_LINES = (
    (1, "Ses01F_impro01", "Ses01F_impro01_F000", "neu"),
    (1, "Ses01F_impro01", "Ses01F_impro01_M000", "exc"),
    (1, "Ses01F_impro01", "Ses01F_impro01_F001", "xxx"),
    (1, "Ses01F_impro01", "Ses01F_impro01_M001", "fru"),
    (2, "Ses02M_script01_1", "Ses02M_script01_1_M000", "hap"),
    (2, "Ses02M_script01_1", "Ses02M_script01_1_F000", "ang"),
    (2, "Ses02M_script01_1", "Ses02M_script01_1_F001", "oth"),
    (2, "Ses02M_script01_1", "Ses02M_script01_1_M001", "dis"),
    (2, "Ses02M_script01_1", "Ses02M_script01_1_M002", "sad"),
)


def make_iemocap(root: Path, *, lines=IEMOCAP_LINES) -> Path:
    by_dialog: dict = {}
    for session, dialog, utt, lab in lines:
        by_dialog.setdefault((session, dialog), []).append((utt, lab))
    for (session, dialog), utts in by_dialog.items():
        sdir = root / f"Session{session}"
        text = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        trans = []
        for i, (utt, lab) in enumerate(utts):
            start, end = 1.5 * i + 0.25, 1.5 * i + 1.25
            text += [f"[{start:.4f} - {end:.4f}]\t{utt}\t{lab}\t[2.5000, 3.0000, 3.5000]",
                     f"C-E1:\tNeutral;\t()", "A-E1:\tval 3; act 2; dom  3;\t()", ""]
            trans.append(f"{utt} [{start:08.4f}-{end:08.4f}]: Sentence number {i}.")
            write_wav(sdir / "sentences" / "wav" / dialog / f"{utt}.wav")
        (sdir / "dialog" / "EmoEvaluation").mkdir(parents=True, exist_ok=True)
        (sdir / "dialog" / "EmoEvaluation" / f"{dialog}.txt").write_text("\n".join(text) + "\n")
        (sdir / "dialog" / "EmoEvaluation" / "Categorical").mkdir(exist_ok=True)  # sub-folders are not read
        (sdir / "dialog" / "transcriptions").mkdir(parents=True, exist_ok=True)
        (sdir / "dialog" / "transcriptions" / f"{dialog}.txt").write_text("\n".join(trans) + "\n")
    return root


#: (split, dialogue, utterance, emotion) written by make_meld
MELD_ROWS = (
    ("train", 0, 0, "neutral"), ("train", 0, 1, "joy"), ("train", 1, 0, "anger"),
    ("dev", 0, 0, "sadness"), ("dev", 0, 1, "surprise"),
    ("test", 0, 0, "fear"), ("test", 1, 0, "disgust"),
)
_MELD_DIRS = {"train": "train/train_splits", "dev": "dev_splits_complete", "test": "output_repeated_splits_test"}


def make_meld(root: Path, *, rows=MELD_ROWS, splits=("train", "dev", "test")) -> Path:
    """The csv files and clip folders of ``splits`` only (a partial tree when fewer than three)."""
    rows = [r for r in rows if r[0] in splits]
    header = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime"
    lines: dict = {s: [header] for s in _MELD_DIRS if s in splits}
    for i, (split, dia, utt, emo) in enumerate(rows, start=1):
        lines[split].append(f'{i},"Oh, hi {i}!",Chandler,{emo},neutral,{dia},{utt},3,7,'
                            '"00:14:38,127","00:14:40,378"')
        write_mp4(root / _MELD_DIRS[split] / f"dia{dia}_utt{utt}.mp4")
    for split, text in lines.items():
        (root / f"{split}_sent_emo.csv").write_text("\n".join(text) + "\n")
        (root / _MELD_DIRS[split]).mkdir(parents=True, exist_ok=True)
    return root


def make_mosi(root: Path) -> Path:
    """Two videos of 2.0 s; 5 segments with sentiment -2.4, 0, 1.2 | 0.4, -0.2."""
    data = {"vidA": ([[-2.4], [0.0], [1.2]], [[0.0, 0.5], [0.5, 1.1], [1.2, 1.9]]),
            "vidB": ([[0.4], [-0.2]], [[0.1, 0.9], [1.0, 2.0]])}
    write_csd(root / "CMU_MOSI_Opinion_Labels.csd", sequence="Opinion Segment Labels", data=data)
    for vid in data:
        write_wav(root / "Raw" / "Audio" / "WAV_16000" / "Full" / f"{vid}.wav", duration_s=2.0)
    return root


def make_mosei(root: Path) -> Path:
    """One video of 3.0 s, 4 segments: anger, none, happy/sad tie, fear."""
    feats = [[-1.0, 0, 0, 2.0, 0, 0.3, 0], [0.0, 0, 0, 0, 0, 0, 0], [0.5, 1.0, 1.0, 0, 0, 0, 0],
             [-0.3, 0, 0.3, 0, 0, 0, 1.7]]
    ivs = [[0.0, 0.6], [0.6, 1.4], [1.4, 2.2], [2.2, 3.0]]
    write_csd(root / "labels" / "CMU_MOSEI_Labels.csd", sequence="All Labels", data={"v-01_x": (feats, ivs)})
    write_wav(root / "Raw" / "Audio" / "Full" / "WAV_16000" / "v-01_x.wav", duration_s=3.0)
    return root


# ---- caption sets -----------------------------------------------------------------------------------------------

def make_clotho(root: Path, *, parts=("development", "validation", "evaluation")) -> Path:
    """development: 2 files, validation: 1, evaluation: 1 -> 20 pairs (of ``parts`` only)."""
    for part, names in (("development", ["a dog, barking.wav", "rain.wav"]), ("validation", ["birds.wav"]),
                        ("evaluation", ["car.wav"])):
        if part not in parts:
            continue
        lines = ["file_name,caption_1,caption_2,caption_3,caption_4,caption_5"]
        for n in names:
            caps = ",".join(f'"{n[:-4]} caption {k}, with comma"' for k in range(1, 6))
            lines.append(f'"{n}",{caps}')
            write_wav(root / part / n, rate_hz=44100)
        (root / f"clotho_captions_{part}.csv").write_text("\n".join(lines) + "\n")
    return root


def make_audiocaps(root: Path) -> Path:
    """train: 2 clips (one caption each), val: 1 clip with 2 captions -> 4 rows."""
    (root / "dataset").mkdir(parents=True, exist_ok=True)
    (root / "dataset" / "train.csv").write_text(
        "audiocap_id,youtube_id,start_time,caption\n91139,r1nicOVtvkQ,130,A woman talks nearby as water pours\n"
        "58146,UDGBjjwyaqE,20,Multiple clanging and clanking sounds\n")
    (root / "dataset" / "val.csv").write_text(
        "audiocap_id,youtube_id,start_time,caption\n97151,rqfQRErjfk8,170,A crowd cheers\n"
        "97152,rqfQRErjfk8,170,People cheer and clap\n")
    (root / "dataset" / "test.csv").write_text("audiocap_id,youtube_id,start_time,caption\n")
    for split, yt in (("train", "r1nicOVtvkQ"), ("train", "UDGBjjwyaqE"), ("val", "rqfQRErjfk8")):
        write_wav(root / "audio" / split / f"{yt}.wav", rate_hz=32000)
    return root


def make_macs(root: Path) -> Path:
    """2 files with 3 and 2 annotations -> 5 pairs."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "MACS.yaml").write_text(
        "files:\n"
        "- filename: airport-barcelona-0-0-a.wav\n  annotations:\n"
        "  - {annotator_id: 1, sentence: people talking in an airport, tags: [adults_talking]}\n"
        "  - {annotator_id: 2, sentence: announcement and footsteps, tags: [announcement]}\n"
        "  - {annotator_id: 3, sentence: a busy hall, tags: []}\n"
        "- filename: park-helsinki-1-10-a.wav\n  annotations:\n"
        "  - {annotator_id: 1, sentence: birds singing in a park, tags: [birds_singing]}\n"
        "  - {annotator_id: 4, sentence: wind and distant traffic, tags: [traffic]}\n")
    for n in ("airport-barcelona-0-0-a.wav", "park-helsinki-1-10-a.wav"):
        write_wav(root / "audio" / n, rate_hz=48000, channels=2)
    return root


def make_fsd50k(root: Path, *, parts=("dev", "eval")) -> Path:
    """dev: 2 clips (train, val), eval: 1 clip -> 3 rows (of ``parts`` only)."""
    gt = root / "FSD50K.ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    if "dev" in parts:
        (gt / "dev.csv").write_text('fname,labels,mids,split\n64760,"Electric_guitar,Guitar,Music","/m/02sgy,/m/0342h,'
                                '/m/04rlf",train\n16399,"Drill,Tools",/m/01d380,val\n')
    if "eval" in parts:
        (gt / "eval.csv").write_text('fname,labels,mids\n'
                                     '37199,"Speech,Male_speech_and_man_speaking","/m/09x0r,/m/05zppz"\n')
    for part, f in (("dev", "64760"), ("dev", "16399"), ("eval", "37199")):
        if part not in parts:
            continue
        write_wav(root / f"FSD50K.{part}_audio" / f"{f}.wav", rate_hz=44100)
    return root


# ---- own corpus (folder + labels.csv) ---------------------------------------------------------------------------

#: (path, label, speaker, sex, fold, start_s, end_s) written by make_folder; "joy" needs the mapping joy -> happy
FOLDER_ROWS = (
    ("spk1/a.wav", "angry", "s1", "F", 0, "", ""),
    ("spk1/b.wav", "joy", "s1", "female", 0, "", ""),
    ("spk2/c.flac", "neutral", "s2", "Male", 1, "", ""),
    ("spk2/long.wav", "sad", "s2", "m", 2, "0.1", "0.5"),
    ("spk2/long.wav", "Sad", "s2", "", 2, "0.5", "0.9"),
)


def make_folder(root: Path, *, rows=FOLDER_ROWS, labels: str = "labels.csv", extra_header: str = "",
                extra_cells: tuple = ()) -> Path:
    """Audio files + a labels CSV (columns path,label,speaker,sex,fold,start_s,end_s[,extra])."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path", "label", "speaker", "sex", "fold", "start_s", "end_s"]
                    + ([extra_header] if extra_header else []))
    for i, row in enumerate(rows):
        writer.writerow(list(row) + ([extra_cells[i]] if extra_header else []))
        path = root / row[0]
        if not path.exists() and ".." not in row[0]:
            if path.suffix == ".flac":
                import soundfile as sf

                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(str(path), tone(0.1, 16000), 16000, format="FLAC")
            else:
                write_wav(path, duration_s=1.0)
    root.mkdir(parents=True, exist_ok=True)
    (root / labels).write_text(buf.getvalue())
    return root
