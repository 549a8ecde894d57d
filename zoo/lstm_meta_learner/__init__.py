from zoo.layers.gradient_preprocessing import GradientPreprocessing
from zoo.lstm_meta_learner.coordinate_lstm import CoordinateLSTM
from zoo.lstm_meta_learner.lstm_meta_learner import LSTMMetaLearner
from zoo.lstm_meta_learner.meta_lstm_cell import MetaLSTMCell

__all__ = ["CoordinateLSTM", "GradientPreprocessing", "LSTMMetaLearner", "MetaLSTMCell"]
