"""The trained Rasa model, cached by a hash of its inputs: train only when they changed.

Inputs: config.yml, domain.yml, the dialogue and NLU files in data/ (not the FAQ: the FAQ is
served by faq_index and changes without retraining) and the Rasa version.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from bot.config import ROOT

TRAINING_FILES = ("config.yml", "domain.yml", "data/nlu.yml", "data/rules.yml", "data/stories.yml")


def inputs_hash(root: Path = ROOT) -> str:
    from importlib.metadata import version

    digest = hashlib.sha256(f"rasa=={version('rasa')}".encode())
    for name in TRAINING_FILES:
        path = root / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_model(models_dir: Path, root: Path = ROOT) -> Path:
    """Path of the model for the current inputs, training it first if needed."""
    name = f"brightcart-{inputs_hash(root)}"
    model = models_dir / f"{name}.tar.gz"
    if model.exists():
        return model
    print(f"training the Rasa model ({name}); this takes a few minutes the first time", file=sys.stderr)
    data = [str(root / f) for f in TRAINING_FILES[2:] if (root / f).exists()]
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(root / "config.yml"), "--domain", str(root / "domain.yml"),
        "--data", *data, "--out", str(models_dir), "--fixed-model-name", name,
    ]
    subprocess.run(command, cwd=root, check=True)
    if not model.exists():
        raise RuntimeError(f"rasa train finished but {model} is missing")
    return model
