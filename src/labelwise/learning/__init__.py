"""Learning from the labels themselves: a small built-in text classifier and what it tells.

CPU only, nothing downloaded: scikit-learn's TF-IDF and logistic regression, trained on the
project's current consensus. Its out-of-fold probabilities (each item scored by a model that
never saw it) are what confident learning needs to point at suspected label errors.
"""
