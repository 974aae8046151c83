from labelwise.quality.dawid_skene import dawid_skene
from labelwise.quality.krippendorff import krippendorff_alpha
from labelwise.quality.voting import majority_vote

__all__ = ["dawid_skene", "krippendorff_alpha", "majority_vote"]
