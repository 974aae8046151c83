"""The labeling workflow: who gets which item next, what submitting does, where an item goes
once its answers are in, and the questions annotators escalate on the way."""
