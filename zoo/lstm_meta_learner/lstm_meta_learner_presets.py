"""LSTM meta-learner presets (weights under `pretrained/<name>/`)."""

LSTM_META_LEARNER_PRESETS = {
    f"lstm_meta_learner_omniglot_5way_{shots}shot": {
        "class": "LSTMMetaLearner",
        "description": f"LSTM meta-learner (Ravi & Larochelle) training a Conv-4 classifier with "
        f"32 filters, Omniglot 28x28 Vinyals split, 5-way {shots}-shot.",
    }
    for shots in (1, 5)
}
