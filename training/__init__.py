"""Episodes, data protocols, training recipes and evaluation."""
