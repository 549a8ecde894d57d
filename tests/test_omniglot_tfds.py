"""The TFDS source yields the same structure as the archives (on TFDS' mock data)."""

import pytest

tfds = pytest.importorskip("tensorflow_datasets")

from training.omniglot_tfds import load_omniglot_tfds  # noqa: E402


def test_tfds_source_names_characters_like_the_upstream_folders():
    with tfds.testing.mock_data(num_examples=40):
        data = load_omniglot_tfds(image_size=28)
    assert data.images.shape[1:] == (data.images.shape[1], 28, 28)
    assert data.images.shape[0] == len(data.characters)
    for name in data.characters:
        alphabet, character = name.split("/")
        assert alphabet and character.startswith("character") and character[9:].isdigit()
    assert data.images.min() >= 0 and data.images.max() <= 255
