"""The quality-control core: agreement, aggregation and intervals as pure functions on arrays.

Inputs are integer codes, one entry per annotation (see `encode`); nothing here touches a
database, the network or any other part of labelwise.
"""

from labelwise.quality.agreement import (
    KappaWeights,
    PairKappa,
    cohen_kappa,
    fleiss_kappa,
    pairwise_cohen_kappa,
    per_label_kappa,
)
from labelwise.quality.bootstrap import bootstrap_ci
from labelwise.quality.breakdowns import (
    AnnotatorScores,
    LabelScores,
    annotator_accuracy,
    confusion_matrix,
    deviation_from_others,
    label_scores,
    per_group,
)
from labelwise.quality.dawid_skene import DawidSkeneResult, dawid_skene
from labelwise.quality.encoding import (
    CodedAnnotations,
    encode,
    find_duplicates,
    label_values,
    sort_labels,
    vote_counts,
)
from labelwise.quality.intervals import ConfidenceInterval, wilson_interval
from labelwise.quality.krippendorff import MeasurementLevel, krippendorff_alpha
from labelwise.quality.rankings import (
    BordaConsensus,
    RankingPairs,
    borda_count,
    kendall_tau,
    mean_pairwise_tau,
    ranking_pairs,
    tau_matrix,
)
from labelwise.quality.spans import Span, SpanMatch, pairwise_span_f1, span_f1, vote_spans
from labelwise.quality.stratified import StratifiedEstimate, stratified_proportion
from labelwise.quality.voting import (
    UNRESOLVED,
    Consensus,
    MultiLabelConsensus,
    NumberMethod,
    TiePolicy,
    aggregate_numbers,
    decide,
    log_odds_weights,
    majority_vote,
    multilabel_vote,
    weighted_vote,
)

__all__ = [
    "UNRESOLVED",
    "AnnotatorScores",
    "BordaConsensus",
    "CodedAnnotations",
    "ConfidenceInterval",
    "Consensus",
    "DawidSkeneResult",
    "KappaWeights",
    "LabelScores",
    "MeasurementLevel",
    "MultiLabelConsensus",
    "NumberMethod",
    "PairKappa",
    "RankingPairs",
    "Span",
    "SpanMatch",
    "StratifiedEstimate",
    "TiePolicy",
    "aggregate_numbers",
    "annotator_accuracy",
    "bootstrap_ci",
    "borda_count",
    "cohen_kappa",
    "confusion_matrix",
    "dawid_skene",
    "decide",
    "deviation_from_others",
    "encode",
    "find_duplicates",
    "fleiss_kappa",
    "kendall_tau",
    "krippendorff_alpha",
    "label_scores",
    "label_values",
    "log_odds_weights",
    "majority_vote",
    "mean_pairwise_tau",
    "multilabel_vote",
    "pairwise_cohen_kappa",
    "pairwise_span_f1",
    "per_group",
    "per_label_kappa",
    "ranking_pairs",
    "sort_labels",
    "span_f1",
    "stratified_proportion",
    "tau_matrix",
    "vote_counts",
    "vote_spans",
    "weighted_vote",
    "wilson_interval",
]
