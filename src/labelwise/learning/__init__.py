"""Learning from the labels themselves: a small built-in text classifier and what it tells.

CPU only, nothing downloaded: scikit-learn's TF-IDF and logistic regression, trained on the
project's current consensus. Its out-of-fold probabilities (each item scored by a model that
never saw it) are what confident learning needs to point at suspected label errors.

scikit-learn takes seconds to import, so the services import these modules where they use
them: a server or command that never trains does not pay for it.
"""

DESCRIPTION = "TF-IDF (words and word pairs) + logistic regression, 5-fold out of fold"
