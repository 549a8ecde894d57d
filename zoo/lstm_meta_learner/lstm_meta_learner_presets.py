"""LSTM meta-learner presets (weights under `pretrained/<name>/`)."""

from zoo.preset_lists import omniglot_presets

LSTM_META_LEARNER_PRESETS = omniglot_presets(
    "lstm_meta_learner",
    "LSTMMetaLearner",
    lambda ways, shots: (
        f"LSTM meta-learner (Ravi & Larochelle) training a Conv-4 classifier "
        f"with 32 filters, Omniglot 28x28 Vinyals split, {ways}-way {shots}-shot."
    ),
    ways=(5,),
)
