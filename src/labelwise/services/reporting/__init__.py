"""Quality reporting over a project's answers: the data read once into arrays, agreement per
question, consensus, the review estimate and the report that gathers them."""
